// The official MCP TypeScript SDK as a client that knows nothing about this server:
// from the 401 it discovers the protected resource and the authorization server,
// registers, sends the person to sign in and consent (the real pages, driven by
// consent.mjs), exchanges the code with PKCE, and then works — on Streamable HTTP and on
// the legacy HTTP+SSE transport; and refreshes an access token that expired by itself
// (the strict instance's 3-second tokens). Runs against LEARNER_BASE_URL and
// LEARNER_STRICT_URL (every host).

import assert from "node:assert/strict";
import { test } from "node:test";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

import { authorize } from "./consent.mjs";

const base = process.env.LEARNER_BASE_URL;
const strict = process.env.LEARNER_STRICT_URL;
const password = process.env.LEARNER_DEMO_PASSWORD || "demo-password-for-tests";
const REDIRECT = "http://127.0.0.1:9/callback";
const SCOPE = "learner.profile learner.assessment learner.struggles class.aggregates";

/** An OAuthClientProvider holding everything in memory, as a CLI client would. */
class MemoryProvider {
  constructor(scope = SCOPE) {
    this.scope = scope;
    this.authorizationUrl = undefined;
    this.saved = {};
    this.refreshes = 0;
  }
  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata() {
    return {
      client_name: "MCP TypeScript SDK test client",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: this.scope,
    };
  }
  clientInformation() {
    return this.saved.client;
  }
  saveClientInformation(client) {
    this.saved.client = client;
  }
  tokens() {
    return this.saved.tokens;
  }
  saveTokens(tokens) {
    if (this.saved.tokens) this.refreshes += 1;
    this.saved.tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier) {
    this.saved.verifier = verifier;
  }
  codeVerifier() {
    return this.saved.verifier;
  }
}

/**
 * Connects `makeTransport`'s transport the way an application does: the first attempt
 * ends in UnauthorizedError after the SDK has registered and built the authorization URL;
 * the person approves; the code is handed to the transport; the second attempt works.
 */
async function connectWithSignIn(makeTransport, provider, username = "teacher", server = base) {
  const first = makeTransport();
  const client = new Client({ name: "learner-dna-sdk-test", version: "1.0.0" });
  await assert.rejects(client.connect(first), UnauthorizedError);
  assert.ok(provider.authorizationUrl, "the SDK asked for the person's authorization");
  const authorizationUrl = provider.authorizationUrl;
  assert.equal(authorizationUrl.searchParams.get("code_challenge_method"), "S256");
  assert.equal(authorizationUrl.searchParams.get("resource"), `${server}/mcp`);
  const redirect = await authorize(authorizationUrl, { username, password });
  assert.equal(redirect.origin + redirect.pathname, REDIRECT);
  assert.equal(redirect.searchParams.get("iss"), server);
  await first.finishAuth(redirect.searchParams.get("code"));
  const transport = makeTransport();
  const connected = new Client({ name: "learner-dna-sdk-test", version: "1.0.0" });
  await connected.connect(transport);
  return { client: connected, transport };
}

function json(result) {
  return JSON.parse(result.contents[0].text);
}

test("Streamable HTTP: sign-in, tools, resources, prompts, subscription, refresh, termination", async () => {
  const provider = new MemoryProvider();
  const url = new URL(`${base}/mcp`);
  const { client, transport } = await connectWithSignIn(
    () => new StreamableHTTPClientTransport(url, { authProvider: provider }),
    provider,
  );
  assert.ok(provider.saved.client.client_id, "registered dynamically");
  assert.ok(provider.saved.tokens.refresh_token, "a refresh token came with the access token");
  assert.equal(client.getServerVersion().name, "learner-dna-mcp");
  assert.ok(transport.sessionId, "a session");

  // Tools: the teacher's question.
  const tools = (await client.listTools()).tools.map((t) => t.name);
  for (const name of ["get_learner_dna", "find_struggling_learners", "class_insights"]) {
    assert.ok(tools.includes(name), `${name} in ${tools}`);
  }
  const answer = await client.callTool({
    name: "find_struggling_learners",
    arguments: { class: "demo-cls0", concept: "fractions" },
  });
  assert.notEqual(answer.isError, true, JSON.stringify(answer));
  assert.ok(answer.structuredContent.learners.length > 0);
  assert.match(answer.content[0].text, /struggle with fractions in demo-cls0/);

  // Resources and templates.
  const resources = (await client.listResources()).resources.map((r) => r.uri);
  assert.ok(resources.includes("learner-dna://learners"), String(resources));
  const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
  assert.ok(templates.includes("learner-dna://learners/{id}/profile"));
  const learners = json(await client.readResource({ uri: "learner-dna://learners" })).learners;
  assert.ok(learners.length >= 5);
  const profile = json(await client.readResource({ uri: learners[0].uri }));
  assert.equal(profile.learner, learners[0].id);

  // Prompts.
  const prompt = await client.getPrompt({
    name: "plan_class_intervention",
    arguments: { class: "demo-cls0", concept: "fractions" },
  });
  assert.equal(prompt.messages[1].content.resource.uri, "learner-dna://classes/demo-cls0/insights");

  // A subscription receives notifications/resources/updated on the session's stream.
  const updated = new Promise((resolve) =>
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => resolve(n.params.uri)),
  );
  await client.subscribeResource({ uri: "test://watched-resource" });
  await client.callTool({ name: "test_trigger_resource_update", arguments: {} });
  const uri = await Promise.race([
    updated,
    // A bound, not a wait: the update is awaited; a busy machine may take a while.
    new Promise((_, reject) => setTimeout(() => reject(new Error("no update within 60 s")), 60_000)),
  ]);
  assert.equal(uri, "test://watched-resource");

  // The access token dies (revoked, as an expiry would end it): the SDK refreshes on
  // its own and the call goes through.
  const revoked = await fetch(`${base}/oauth/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: provider.saved.tokens.access_token, client_id: provider.saved.client.client_id }),
  });
  assert.equal(revoked.status, 200);
  const before = provider.saved.tokens.access_token;
  const again = await client.callTool({ name: "class_insights", arguments: { class: "demo-cls0" } });
  assert.notEqual(again.isError, true);
  assert.equal(provider.refreshes, 1, "refreshed once");
  assert.notEqual(provider.saved.tokens.access_token, before);

  // Session termination: DELETE, then the old session id is refused.
  const session = transport.sessionId;
  await transport.terminateSession();
  const stale = await fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${provider.saved.tokens.access_token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "ping" }),
  });
  assert.equal(stale.status, 404);
  await client.close();
});

test("an access token that expires by itself (3 s, strict instance) is refreshed by the SDK", async () => {
  assert.ok(strict, "LEARNER_STRICT_URL names the instance with 3-second access tokens");
  const provider = new MemoryProvider();
  const url = new URL(`${strict}/mcp`);
  const transport = () => new StreamableHTTPClientTransport(url, { authProvider: provider });
  const { client } = await connectWithSignIn(transport, provider, "teacher", strict);
  assert.equal(provider.saved.tokens.expires_in, 3);
  assert.ok((await client.listTools()).tools.length > 0);
  await client.close();
  const expired = provider.saved.tokens.access_token;
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  // The server refuses the expired token with 401 invalid_token; the SDK refreshes and
  // the new connection's initialize goes through (sessions there idle out after 1 s, so
  // this is a new connection, as an application's next start would be).
  const refused = await fetch(url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${expired}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
  });
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get("www-authenticate"), /error="invalid_token"/);
  const again = new Client({ name: "learner-dna-sdk-test", version: "1.0.0" });
  await again.connect(transport());
  const tools = (await again.listTools()).tools.map((t) => t.name);
  assert.ok(tools.includes("get_learner_dna"), String(tools));
  assert.equal(provider.refreshes, 1, "refreshed once, without a new sign-in");
  assert.notEqual(provider.saved.tokens.access_token, expired);
  await again.close();
});

test("legacy HTTP+SSE: the same sign-in, then tools and resources over /mcp/sse and /mcp/messages", async () => {
  const provider = new MemoryProvider();
  const url = new URL(`${base}/mcp/sse`);
  const { client } = await connectWithSignIn(
    () => new SSEClientTransport(url, { authProvider: provider }),
    provider,
    "guardian",
  );
  const learners = json(await client.readResource({ uri: "learner-dna://learners" })).learners;
  assert.equal(learners.length, 1, "the guardian's one consenting child");
  const dna = await client.callTool({ name: "get_learner_dna", arguments: { learner: learners[0].id } });
  assert.notEqual(dna.isError, true, JSON.stringify(dna));
  assert.ok(dna.structuredContent.traits.learning_velocity);
  // The SDK asked for the scope the 401 challenge suggested (learning data; no names).
  const granted = provider.saved.tokens.scope.split(" ").sort();
  assert.deepEqual(granted, ["class.aggregates", "learner.assessment", "learner.behavioral", "learner.profile", "learner.struggles"]);
  assert.equal(dna.structuredContent.identity, undefined, "no identity scope");
  await client.close();
});

test("denying consent sends access_denied back to the client", async () => {
  const provider = new MemoryProvider();
  const first = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { authProvider: provider });
  const client = new Client({ name: "learner-dna-sdk-test", version: "1.0.0" });
  await assert.rejects(client.connect(first), UnauthorizedError);
  const redirect = await authorize(provider.authorizationUrl, { username: "teacher", password, decision: "deny" });
  assert.equal(redirect.searchParams.get("error"), "access_denied");
  assert.equal(redirect.searchParams.get("code"), null);
  assert.equal(redirect.searchParams.get("state"), provider.authorizationUrl.searchParams.get("state"));
});
