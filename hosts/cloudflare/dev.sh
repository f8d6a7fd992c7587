#!/usr/bin/env bash
# Runs the built worker in local workerd through `wrangler dev`, fully offline.
#
#   dev.sh [--test] [--port N] [--persist-to DIR] [--set NAME=VALUE]...
#
# --test serves build-test/ (the conformance routes) with the test secrets and an
# outbound allow-list for loopback. --set adds a setting to LEARNER_CONFIG. State (the Durable Objects' storage) lives in --persist-to. Without --test the demo
# accounts get a password generated once per state directory (secret DEMO_PASSWORD,
# kept in <state>/demo-password), as `learner-mcp serve` does.
set -euo pipefail
cd "$(dirname "$0")"
test_mode=0; port=8788; persist=$PWD/.wrangler/state; sets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --test) test_mode=1 ;;
    --port) port=$2; shift ;;
    --persist-to) persist=$2; shift ;;
    --set) sets+=("$2"); shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$persist"
# Keep wrangler offline and its files inside the state directory.
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false \
  CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_HIDE_BANNER=true \
  XDG_CONFIG_HOME="$persist/config" WRANGLER_LOG_PATH="$persist/logs" \
  WRANGLER_CACHE_DIR="$persist/cache"
. ./node-env.sh

wrangler=(node node_modules/wrangler/bin/wrangler.js)

main=build/entry.js; extra=()
# LEARNER_CONFIG: wrangler.toml's value with the --set settings over it.
config_json() {
  python3 -c 'import json, sys, tomllib
config = json.loads(tomllib.load(open("wrangler.toml", "rb"))["vars"]["LEARNER_CONFIG"])
config.update(s.split("=", 1) for s in sys.argv[1:])
print(json.dumps(config, separators=(",", ":")))' "$@"
}
if [ "$test_mode" = 1 ]; then
  main=build-test/entry.js
  printf 'CONFORMANCE_SECRET=conformance-secret-value\nDEMO_PASSWORD=demo-password-for-tests\n' > "$persist/test.vars"
  config=$(config_json outbound.allow='http://127.0.0.1:*' "${sets[@]}")
  extra=(--env-file "$persist/test.vars" --var "LEARNER_CONFIG:$config")
else
  [ -s "$persist/demo-password" ] ||
    python3 -c 'import secrets; print(secrets.token_hex(12))' > "$persist/demo-password"
  password=$(cat "$persist/demo-password")
  printf 'DEMO_PASSWORD=%s\n' "$password" > "$persist/dev.vars"
  echo "demo sign-in accounts: teacher, guardian, student, admin — password: $password (their tenant, \`demo\`, is added on first use)"
  extra=(--env-file "$persist/dev.vars")
  if [ ${#sets[@]} -gt 0 ]; then extra+=(--var "LEARNER_CONFIG:$(config_json "${sets[@]}")"); fi
fi
inspector=$(python3 ../../tests/hosts/free-port.py)
exec "${wrangler[@]}" dev "$main" --ip 127.0.0.1 --port "$port" --inspector-port "$inspector" \
  --persist-to "$persist" --show-interactive-dev-session=false "${extra[@]}"
