#!/usr/bin/env bash
# Builds the worker with worker-build, using only tools from the package registries:
# wasm-bindgen-cli (cargo), wasm-opt from `binaryen` and esbuild (npm, lockfile).
#
#   build.sh [--test]     --test adds the conformance test routes (into build-test/)
set -euo pipefail
cd "$(dirname "$0")"
out=build; features=()
if [ "${1:-}" = "--test" ]; then out=build-test; features=(--features test-routes); fi

. ./node-env.sh
export WASM_BINDGEN_BIN=${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}
export WASM_OPT_BIN=${WASM_OPT_BIN:-$PWD/node_modules/binaryen/bin/wasm-opt}
export ESBUILD_BIN=${ESBUILD_BIN:-$PWD/node_modules/@esbuild/linux-x64/bin/esbuild}

worker-build --profile release-worker --out-dir "$out" "${features[@]}"
# The entry wrangler runs: worker-build's index.js with RPC-capable object classes.
cp entry.js "$out/entry.js"
raw=$(stat -c %s "$out/index_bg.wasm")
gz=$(gzip -9 -c "$out/index_bg.wasm" | wc -c)
js=$(cat "$out"/index.js "$out"/entry.js | gzip -9 | wc -c)
echo "worker bundle: $out/index_bg.wasm $raw bytes raw, $gz bytes gzipped (+ index.js and entry.js $js bytes gzipped)"
