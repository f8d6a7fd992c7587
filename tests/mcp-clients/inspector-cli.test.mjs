// The MCP Inspector's CLI (@modelcontextprotocol/inspector-cli, pinned) against the
// server: it takes a bearer token in a header, so the token comes first from the real
// flow (the TypeScript SDK's own `auth()` with the sign-in and consent pages), then the
// CLI lists the tools and calls one. Runs against LEARNER_BASE_URL (every host).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { auth } from "@modelcontextprotocol/sdk/client/auth.js";

import { authorize } from "./consent.mjs";

const base = process.env.LEARNER_BASE_URL;
const password = process.env.LEARNER_DEMO_PASSWORD || "demo-password-for-tests";
const REDIRECT = "http://127.0.0.1:9/callback";
const cli = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/inspector-cli/package.json")),
  "build/index.js",
);

/** A token for the demo teacher by the real flow, through the SDK's `auth()`. */
async function teacherToken() {
  const saved = {};
  const provider = {
    get redirectUrl() {
      return REDIRECT;
    },
    get clientMetadata() {
      return { client_name: "MCP Inspector CLI test", redirect_uris: [REDIRECT], token_endpoint_auth_method: "none" };
    },
    clientInformation: () => saved.client,
    saveClientInformation: (client) => (saved.client = client),
    tokens: () => saved.tokens,
    saveTokens: (tokens) => (saved.tokens = tokens),
    redirectToAuthorization: (url) => (saved.url = url),
    saveCodeVerifier: (verifier) => (saved.verifier = verifier),
    codeVerifier: () => saved.verifier,
  };
  const serverUrl = `${base}/mcp`;
  assert.equal(await auth(provider, { serverUrl }), "REDIRECT");
  const redirect = await authorize(saved.url, { username: "teacher", password });
  const code = redirect.searchParams.get("code");
  assert.equal(await auth(provider, { serverUrl, authorizationCode: code }), "AUTHORIZED");
  return saved.tokens.access_token;
}

// inspector-cli 1.0.3 finds its own package.json by a path it tests against the working
// directory but imports relative to its module: it runs only from its build directory.
// A bound on the CLI's run, generous for a busy machine.
const options = { timeout: 180_000, cwd: dirname(cli) };

async function inspect(token, ...args) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [cli, `${base}/mcp`, "--transport", "http", "--header", `Authorization: Bearer ${token}`, ...args],
    options,
  );
  return JSON.parse(stdout);
}

test("the Inspector CLI lists the tools and calls one with a token from the flow", async () => {
  const token = await teacherToken();
  const listed = await inspect(token, "--method", "tools/list");
  const names = listed.tools.map((t) => t.name);
  assert.ok(names.includes("find_struggling_learners"), String(names));
  const schema = listed.tools.find((t) => t.name === "find_struggling_learners");
  assert.deepEqual(schema.inputSchema.required, ["class", "concept"]);
  assert.ok(schema.outputSchema, "an output schema");
  const called = await inspect(
    token,
    "--method", "tools/call",
    "--tool-name", "find_struggling_learners",
    "--tool-arg", "class=demo-cls0", "concept=fractions",
  );
  assert.notEqual(called.isError, true, JSON.stringify(called));
  assert.ok(called.structuredContent.learners.length > 0);
  assert.match(called.content[0].text, /struggle with fractions in demo-cls0/);
  // Without the token, the CLI gets the 401 and fails.
  await assert.rejects(
    promisify(execFile)(process.execPath, [cli, `${base}/mcp`, "--transport", "http", "--method", "tools/list"], options),
  );
});
