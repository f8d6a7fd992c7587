// The reference stack for issue 14's side-by-side benchmark: Cloudflare's own OAuth
// provider (@cloudflare/workers-oauth-provider) in front of a stateless MCP handler
// (agents' createMcpHandler), serving the same flow the project serves — dynamic client
// registration, authorize (approved at once: there is no sign-in to compare), code
// exchange, refresh, then initialize, tools/list, resources/read and tools/call (echo).
// Run by `just serve-reference` in local workerd, as the project's worker is.

import { AuthorizationError, OAuthProvider, type OAuthHelpers } from "@cloudflare/workers-oauth-provider";
import { McpServer } from "@modelcontextprotocol/server";
import { createMcpHandler } from "agents/mcp/server";
import { z } from "zod";

interface Env { OAUTH_KV: KVNamespace; OAUTH_PROVIDER: OAuthHelpers }

// Must equal the URL the benchmark client uses (origin is compared exactly).
const RESOURCE = "http://localhost:8788/mcp";

function buildServer(): McpServer {
  const server = new McpServer({ name: "reference-echo", version: "0.0.1" });
  server.registerTool(
    "echo",
    { description: "Returns its input", inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  server.registerResource(
    "about",
    "ref://about",
    { mimeType: "text/plain", description: "Static text resource" },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: "reference stack" }] }),
  );
  return server;
}

// Created once per isolate; it calls buildServer() for every request.
const mcp = createMcpHandler(buildServer);

const authorizeHandler: ExportedHandler<Env> = {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== "/authorize") return new Response("Not found", { status: 404 });
    let authRequest;
    try {
      authRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request);
    } catch (error) {
      if (error instanceof AuthorizationError && error.redirectTo) return Response.redirect(error.redirectTo, 302);
      return new Response(String(error), { status: 400 });
    }
    const userId = "bench-user";
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
      request: authRequest,
      userId,
      metadata: { approvedBy: "auto" },
      scope: authRequest.scope,
      props: { userId },
    });
    return Response.redirect(redirectTo, 302);
  },
};

export default new OAuthProvider<Env>({
  apiRoute: "/mcp",
  apiHandler: { fetch: (request: Request, env: Env, ctx: ExecutionContext) => mcp(request, env, ctx) },
  defaultHandler: authorizeHandler,
  authorizeEndpoint: "/authorize",
  tokenEndpoint: "/oauth/token",
  clientRegistrationEndpoint: "/oauth/register",
  scopesSupported: ["mcp", "offline_access"],
  resourceMetadata: { resource: RESOURCE },
});
