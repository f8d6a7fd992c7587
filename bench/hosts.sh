#!/usr/bin/env bash
# Measures the reference stack and every host of this project side by side, one after
# another on this machine (`just bench-hosts`): each is started in its own process
# group on a free loopback port, driven by the load client (bench/load) through the
# whole flow, and stopped. Reports land in bench/results/<name>.json; the table is
# printed at the end and written to bench/results/table.md.
#
#   bench/hosts.sh [reference] [worker] [harness] [spin]      (default: all four)
#
# Environment: ITERATIONS (200), WARMUP (20), SECONDS (20 per throughput run),
# CONNECTIONS (1,4,16), PRIOR_FLOWS (0: untimed flows before the measurement) over
# PRIOR_CONNECTIONS (16).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
results=$root/bench/results
mkdir -p "$results"
work=$(mktemp -d "${TMPDIR:-/tmp}/learner-bench.XXXXXX")
hosts=("$@"); [ ${#hosts[@]} -gt 0 ] || hosts=(reference worker harness spin)
load=("$target/release-native/learner-load" run --iterations "${ITERATIONS:-200}"
      --warmup "${WARMUP:-20}" --seconds "${SECONDS_PER_RUN:-20}"
      --connections "${CONNECTIONS:-1,4,16}" --prior-flows "${PRIOR_FLOWS:-0}"
      --prior-connections "${PRIOR_CONNECTIONS:-16}")
password=bench-password-$$
# Every per-address and per-client limit lifted (one client address sends it all) and
# port calls reported.
settings=(diagnostics.server_timing=true oauth.requests_per_minute_per_ip=100000000
          oauth.registrations_per_hour_per_ip=100000000 oauth.token_requests_per_minute=100000000
          oauth.sign_in_attempts_per_minute=100000000)

free_port() { python3 "$root/tests/hosts/free-port.py"; }

pid=""
stop() {
  if [ -n "$pid" ]; then
    kill -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
trap 'stop; rm -rf "$work"' EXIT

# wait_for URL: until it answers (a server that exits first ends the run).
wait_for() {
  for _ in $(seq 1 900); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "the server exited:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "never ready: $1" >&2; cat "$work/server.log" >&2; exit 1
}

# measure NAME STACK BASE: the load client against the running server.
measure() {
  echo "== $1"
  LEARNER_LOAD_PASSWORD=$password "${load[@]}" --stack "$2" --base "$3" --label "$1" \
    --pgid "$pid" --out "$results/$1.json"
  stop
}

for host in "${hosts[@]}"; do
  port=$(free_port)
  state="$work/$host"; mkdir -p "$state"
  case "$host" in
    reference)
      # The reference compares the token's audience with the request origin exactly:
      # it is served on the port its RESOURCE names, as http://localhost.
      port=8788
      (cd "$root/bench/reference-stack" && . ../../hosts/cloudflare/node-env.sh &&
        exec setsid node_modules/.bin/wrangler dev --port "$port" --ip 127.0.0.1 \
          --persist-to "$state" --show-interactive-dev-session=false) >"$work/server.log" 2>&1 &
      pid=$!
      wait_for "http://127.0.0.1:$port/.well-known/oauth-authorization-server"
      measure reference reference "http://localhost:$port" ;;
    worker)
      sets=(); for s in "${settings[@]}"; do sets+=(--set "$s"); done
      printf '%s\n' "$password" > "$state/demo-password"
      setsid "$root/hosts/cloudflare/dev.sh" --port "$port" --persist-to "$state" "${sets[@]}" \
        >"$work/server.log" 2>&1 &
      pid=$!
      wait_for "http://127.0.0.1:$port/healthz"
      measure worker learner "http://127.0.0.1:$port" ;;
    harness)
      sets=(); for s in "${settings[@]}"; do sets+=(--set "$s"); done
      LEARNER_SECRET_DEMO_PASSWORD=$password setsid "$target/release-native/learner-mcp" serve \
        --addr "127.0.0.1:$port" --data "$state/data" --component "$root/build/gateway.wasm" \
        "${sets[@]}" >"$work/server.log" 2>&1 &
      pid=$!
      wait_for "http://127.0.0.1:$port/healthz"
      measure harness learner "http://127.0.0.1:$port" ;;
    spin)
      (
        export SPIN_VARIABLE_DEMO_PASSWORD=$password
        for s in "${settings[@]}"; do
          key=${s%%=*}; export "SPIN_VARIABLE_$(echo "$key" | tr 'a-z.-' 'A-Z__')=${s#*=}"
        done
        exec setsid "$target/release-native/learner-mcp" serve --addr "127.0.0.1:$port" \
          --data "$state/data" --spin "$root/hosts/spin/spin.toml" \
          --component "$root/build/spin-app.wasm"
      ) >"$work/server.log" 2>&1 &
      pid=$!
      wait_for "http://127.0.0.1:$port/healthz"
      measure spin learner "http://127.0.0.1:$port" ;;
    *) echo "unknown host $host (reference, worker, harness, spin)" >&2; exit 2 ;;
  esac
done

order=()
for name in reference worker harness spin; do
  [ -f "$results/$name.json" ] && order+=("$results/$name.json")
done
"$target/release-native/learner-load" table "${order[@]}" | tee "$results/table.md"
