"""The official MCP Python SDK (`mcp` from PyPI, pinned) as a client that knows nothing
about this server: its OAuth provider discovers the protected resource and the
authorization server from the 401, registers, sends the person to sign in and consent
(the real pages, driven here as a browser submits them), exchanges the code with PKCE, and
the client then works; and, against the strict instance's 3-second access tokens, it
refreshes an expired token by itself. Runs against LEARNER_BASE_URL and
LEARNER_STRICT_URL (every host); exits non-zero on the first failure."""

import asyncio
import json
import os
import re
import sys

import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

BASE = os.environ["LEARNER_BASE_URL"].rstrip("/")
STRICT = os.environ["LEARNER_STRICT_URL"].rstrip("/")
PASSWORD = os.environ.get("LEARNER_DEMO_PASSWORD", "demo-password-for-tests")
REDIRECT = "http://127.0.0.1:9/callback"


class MemoryStorage:
    """Tokens and registration in memory, as a CLI client keeps them."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None
        self.times_saved = 0

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.times_saved += 1

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def hidden(html: str, name: str) -> str:
    match = re.search(f'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field in the page: {html[:300]}"
    return match.group(1)


def ticked_boxes(html: str) -> dict[str, str]:
    """The consent page's ticked checkboxes, as `{name: value}`."""
    return dict(re.findall(r'<input type="checkbox" name="([^"]*)" value="([^"]*)" checked>', html))


async def submit(
    browser: httpx2.AsyncClient, endpoint: str, html: str, action: str, fields: dict[str, str]
):
    """Submits the form on the page `html` (its request id and CSRF token) with `action`
    and `fields`, as the browser does."""
    return await browser.post(
        endpoint,
        data={
            "request_id": hidden(html, "request_id"),
            "csrf": hidden(html, "csrf"),
            "action": action,
            **fields,
        },
    )


class Person:
    """The person at the browser: signs in and approves on the server's own pages."""

    def __init__(self, username: str, server: str = BASE) -> None:
        self.username = username
        self.server = server
        self.url: str | None = None
        self.visits = 0

    async def redirect(self, url: str) -> None:
        self.url = url
        self.visits += 1

    async def callback(self) -> AuthorizationCodeResult:
        assert self.url, "the SDK sent the person to authorize"
        endpoint = self.url.split("?", 1)[0]
        async with httpx2.AsyncClient(follow_redirects=False, timeout=TIMEOUT) as browser:
            page = await browser.get(self.url)
            assert page.status_code == 200, page.status_code
            signed_in = await submit(
                browser, endpoint, page.text, "sign_in", {"username": self.username, "password": PASSWORD}
            )
            assert signed_in.status_code == 200, (signed_in.status_code, signed_in.text[:300])
            # The boxes the page shows ticked, as a browser sends them.
            answered = await submit(browser, endpoint, signed_in.text, "approve", ticked_boxes(signed_in.text))
        location = httpx2.URL(answered.headers["location"])
        assert str(location).startswith(REDIRECT), location
        params = dict(location.params)
        assert params.get("iss") == self.server, params
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))


# A bound on each request, not a wait: a busy 2-core machine (a cold workerd compiling
# the worker, say) can take longer than httpx's 5-second default to answer.
TIMEOUT = httpx2.Timeout(120.0)


def provider(server: str, storage: MemoryStorage, person: Person) -> OAuthClientProvider:
    """The SDK's OAuth provider for a public client of `server`."""
    return OAuthClientProvider(
        server_url=f"{server}/mcp",
        client_metadata=OAuthClientMetadata(
            client_name="MCP Python SDK test client",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=person.redirect,
        callback_handler=person.callback,
    )


async def main() -> None:
    storage = MemoryStorage()
    auth = provider(BASE, storage, Person("teacher"))
    async with httpx2.AsyncClient(auth=auth, timeout=TIMEOUT) as http:
        async with Client(streamable_http_client(f"{BASE}/mcp", http_client=http)) as client:
            assert storage.client and storage.client.client_id, "registered dynamically"
            assert storage.tokens and storage.tokens.refresh_token, "tokens with a refresh token"
            granted = sorted((storage.tokens.scope or "").split())
            assert granted == [
                "class.aggregates",
                "learner.assessment",
                "learner.behavioral",
                "learner.profile",
                "learner.struggles",
            ], granted

            tools = [t.name for t in (await client.list_tools()).tools]
            assert "find_struggling_learners" in tools, tools
            answer = await client.call_tool(
                "find_struggling_learners", {"class": "demo-cls0", "concept": "fractions"}
            )
            assert not answer.is_error, answer
            assert answer.structured_content["learners"], answer.structured_content
            text = answer.content[0].text
            assert "struggle with fractions in demo-cls0" in text, text

            resources = [str(r.uri) for r in (await client.list_resources()).resources]
            assert "learner-dna://learners" in resources, resources
            listed = await client.read_resource("learner-dna://learners")
            learners = json.loads(listed.contents[0].text)["learners"]
            assert len(learners) >= 5, learners
            profile = json.loads((await client.read_resource(learners[0]["uri"])).contents[0].text)
            assert profile["learner"] == learners[0]["id"], profile

            prompt = await client.get_prompt(
                "plan_class_intervention", {"class": "demo-cls0", "concept": "fractions"}
            )
            assert str(prompt.messages[1].content.resource.uri) == "learner-dna://classes/demo-cls0/insights"
    print(f"MCP Python SDK: sign-in, tools, resources and prompts over {BASE}/mcp: ok")
    await refresh_after_expiry()


async def refresh_after_expiry() -> None:
    """The strict instance's access tokens last 3 s: once one has expired, the SDK
    refreshes it by itself before its next request, without sending the person back to
    sign in."""
    storage = MemoryStorage()
    person = Person("teacher", STRICT)
    async with httpx2.AsyncClient(auth=provider(STRICT, storage, person), timeout=TIMEOUT) as http:
        async with Client(streamable_http_client(f"{STRICT}/mcp", http_client=http)) as client:
            assert (await client.list_tools()).tools
        first = storage.tokens
        assert first and first.expires_in == 3, first
        assert (person.visits, storage.times_saved) == (1, 1)
        await asyncio.sleep(3.5)
        async with Client(streamable_http_client(f"{STRICT}/mcp", http_client=http)) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            assert "get_learner_dna" in tools, tools
        assert person.visits == 1, "signed in again instead of refreshing"
        assert storage.times_saved == 2, storage.times_saved
        assert storage.tokens.access_token != first.access_token
        assert storage.tokens.refresh_token != first.refresh_token, "refresh tokens rotate"
    print(f"MCP Python SDK: expired access token refreshed by the SDK over {STRICT}/mcp: ok")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as error:
        print(f"MCP Python SDK test failed: {error!r}", file=sys.stderr)
        raise
