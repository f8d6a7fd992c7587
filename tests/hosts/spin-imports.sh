#!/usr/bin/env bash
# Checks that a composed Spin application imports only interfaces Spin 3 provides:
# every import of the component must be in spin-sdk 5.2.0's `platform` world (the
# imports a guest may use on a Spin host), as published in the spin-sdk crate.
#
#   tests/hosts/spin-imports.sh build/spin-app.wasm
set -euo pipefail
app=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
sdk=$(cargo metadata --format-version 1 --manifest-path "$root/Cargo.toml" \
  | python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="spin-sdk"))')
wit=$(dirname "$sdk")/wit
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# A dummy module importing the whole platform world, made a component: its imports are
# the platform's, with the world's includes flattened.
wasm-tools component embed --dummy --world spin:up/platform@3.6.0 "$wit" -o "$work/platform.wasm"
wasm-tools component new "$work/platform.wasm" -o "$work/platform.component.wasm"
imports() { wasm-tools component wit "$1" | sed -n '/^world root {/,/^}/p' | sed -n 's/^  import \(.*\);$/\1/p' | sort -u; }
imports "$work/platform.component.wasm" > "$work/provided"
imports "$app" > "$work/used"
extra=$(comm -23 "$work/used" "$work/provided")
if [ -n "$extra" ]; then
  echo "$app imports what Spin does not provide:" >&2; echo "$extra" >&2; exit 1
fi
echo "$app: all $(wc -l < "$work/used") imports are provided by Spin ($(wc -l < "$work/provided") in the platform world)"
