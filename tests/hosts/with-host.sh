#!/usr/bin/env bash
# Starts one host on a free loopback port with test settings, waits until /healthz
# answers, runs the given command with LEARNER_BASE_URL set, and stops the host.
#
#   tests/hosts/with-host.sh wasmtime|spin|cloudflare -- COMMAND...
set -euo pipefail

host=$1; shift
[ "${1:-}" = "--" ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d "${TMPDIR:-/tmp}/learner-$host.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$work/host.log"
export LEARNER_SECRET_CONFORMANCE_SECRET=conformance-secret-value
export SPIN_VARIABLE_CONFORMANCE_SECRET=conformance-secret-value
# The built-in demo accounts' password, for the sign-in tests.
export LEARNER_SECRET_DEMO_PASSWORD=demo-password-for-tests
export SPIN_VARIABLE_DEMO_PASSWORD=demo-password-for-tests
# The browser origin the CORS tests use (MCP Inspector's default).
export SPIN_VARIABLE_CORS_ALLOWED_ORIGINS=http://localhost:6274
# Authorization codes live 4 s under test, so their expiry can be tested.
export SPIN_VARIABLE_OAUTH_CODE_LIFETIME_S=4

case "$host" in
  wasmtime)
    setsid "$target/release-native/learner-mcp" serve --addr "127.0.0.1:$port" --data "$work/data" \
      --component "$root/build/gateway-test.wasm" --allow-outbound 'http://127.0.0.1:*' \
      --set cors.allowed_origins=http://localhost:6274 --set oauth.code_lifetime_s=4 \
      >"$log" 2>&1 &
    ;;
  spin)
    setsid "$target/release-native/learner-mcp" serve --addr "127.0.0.1:$port" --data "$work/data" \
      --spin "$root/hosts/spin/spin.toml" --component "$root/build/spin-app-test.wasm" \
      --allow-outbound 'http://127.0.0.1:*' >"$log" 2>&1 &
    ;;
  cloudflare)
    setsid "$root/hosts/cloudflare/dev.sh" --test --port "$port" --persist-to "$work/state" >"$log" 2>&1 &
    ;;
  *) echo "unknown host $host" >&2; exit 2 ;;
esac
pid=$!

stop() {
  # wrangler starts workerd as a child: end the whole process group.
  kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pkill -P "$pid" 2>/dev/null || true
}
trap stop EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 600); do
  if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the $host host exited before it was ready:" >&2; cat "$log" >&2; exit 1
  fi
  sleep 0.2
done
curl -fsS "$url/healthz" >/dev/null || { echo "the $host host never became ready:" >&2; cat "$log" >&2; exit 1; }
echo "== $host host ready at $url"
status=0
LEARNER_BASE_URL=$url "$@" || status=$?
if [ "$status" -ne 0 ]; then echo "== $host host log:" >&2; tail -n 50 "$log" >&2; fi
exit "$status"
