#!/usr/bin/env bash
# Starts two instances of one host on free loopback ports with test settings, waits
# until both answer /healthz, runs the given command, and stops them.
#
#   tests/hosts/with-host.sh wasmtime|spin|cloudflare -- COMMAND...
#
# LEARNER_BASE_URL names the main instance (test settings). LEARNER_STRICT_URL names
# a second one with short access tokens, tight per-address limits and a pinned public
# URL, for the tests of exactly those (tests/conformance/tests/strict_*.rs).
set -euo pipefail

host=$1; shift
[ "${1:-}" = "--" ] && shift
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d "${TMPDIR:-/tmp}/learner-$host.XXXXXX")
free_port() { python3 "$root/tests/hosts/free-port.py"; }

# Settings both instances share: the conformance secret, the demo accounts' password
# (for the sign-in tests), MCP Inspector's origin for CORS, and 4 s codes so their
# expiry can be tested.
common=(conformance-secret=conformance-secret-value demo-password=demo-password-for-tests)
common_config=(cors.allowed_origins=http://localhost:6274 oauth.code_lifetime_s=4)
strict_config=(oauth.access_lifetime_s=3 oauth.requests_per_minute_per_ip=30
               oauth.registrations_per_hour_per_ip=3 mcp.session_idle_s=1)

pids=()
# start NAME PORT CONFIG...: one instance; CONFIG is name=value settings.
start() {
  local name=$1 port=$2; shift 2
  local dir="$work/$name" log="$work/$name.log"
  mkdir -p "$dir"
  (
    for secret in "${common[@]}"; do
      key=${secret%%=*}; value=${secret#*=}
      upper=$(echo "$key" | tr 'a-z-' 'A-Z_')
      export "LEARNER_SECRET_$upper=$value" "SPIN_VARIABLE_$upper=$value"
    done
    sets=()
    for setting in "$@"; do
      key=${setting%%=*}; value=${setting#*=}
      sets+=(--set "$setting")
      export "SPIN_VARIABLE_$(echo "$key" | tr 'a-z.-' 'A-Z__')=$value"
    done
    case "$host" in
      wasmtime)
        exec setsid "$target/release-native/learner-mcp" serve --addr "127.0.0.1:$port" \
          --data "$dir/data" --component "$root/build/gateway-test.wasm" \
          --allow-outbound 'http://127.0.0.1:*' "${sets[@]}" ;;
      spin)
        # Settings reach the Spin app as variables (SPIN_VARIABLE_*), as on Spin.
        exec setsid "$target/release-native/learner-mcp" serve --addr "127.0.0.1:$port" \
          --data "$dir/data" --spin "$root/hosts/spin/spin.toml" \
          --component "$root/build/spin-app-test.wasm" --allow-outbound 'http://127.0.0.1:*' ;;
      cloudflare)
        exec setsid "$root/hosts/cloudflare/dev.sh" --test --port "$port" \
          --persist-to "$dir/state" "${sets[@]}" ;;
      *) echo "unknown host $host" >&2; exit 2 ;;
    esac
  ) >"$log" 2>&1 &
  pids+=($!)
}

stop() {
  # wrangler starts workerd as a child: end each whole process group.
  for pid in "${pids[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
    pkill -P "$pid" 2>/dev/null || true
  done
  # The instances' data and logs (the logs were shown on failure).
  rm -rf "$work"
}
trap stop EXIT

port=$(free_port); strict_port=$(free_port)
while [ "$strict_port" = "$port" ]; do strict_port=$(free_port); done
url="http://127.0.0.1:$port"; strict_url="http://127.0.0.1:$strict_port"
# Only the main instance accepts Client ID Metadata Documents (from this test's
# loopback document server) and reports port calls in Server-Timing. Every test client there comes from 127.0.0.1, so its
# per-address limits are lifted; the strict instance tests them.
start main "$port" "${common_config[@]}" 'oauth.client_metadata_documents=http://127.0.0.1:*' \
  oauth.requests_per_minute_per_ip=1000000 oauth.registrations_per_hour_per_ip=1000000 \
  diagnostics.server_timing=true
start strict "$strict_port" "${common_config[@]}" "${strict_config[@]}" "public.url=$strict_url"

# wait_ready NAME URL PID
wait_ready() {
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$2/healthz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then
      echo "the $host host ($1) exited before it was ready:" >&2; cat "$work/$1.log" >&2; exit 1
    fi
    sleep 0.2
  done
  curl -fsS -o /dev/null "$2/healthz" || {
    echo "the $host host ($1) never became ready:" >&2; cat "$work/$1.log" >&2; exit 1; }
}
wait_ready main "$url" "${pids[0]}"
wait_ready strict "$strict_url" "${pids[1]}"
echo "== $host host ready at $url (strict instance at $strict_url)"
status=0
LEARNER_BASE_URL=$url LEARNER_STRICT_URL=$strict_url "$@" || status=$?
if [ "$status" -ne 0 ]; then
  for name in main strict; do echo "== $host host log ($name):" >&2; tail -n 40 "$work/$name.log" >&2; done
fi
exit "$status"
