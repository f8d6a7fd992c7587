# Learner DNA MCP — build, serve, test, bench.
#
#   just serve        the harness on http://127.0.0.1:8787 (wasmtime, embedded SQLite)
#   just serve-spin   the Spin build, under the harness's Spin profile
#   just serve-cf     the Cloudflare worker, in local workerd (wrangler dev)
#   just test         everything CI runs
#   just bench        criterion benchmarks

set shell := ["bash", "-euo", "pipefail", "-c"]

root := justfile_directory()
target := env_var_or_default("CARGO_TARGET_DIR", root / "target")
harness := target / "release-native" / "learner-mcp"
addr := env_var_or_default("LEARNER_ADDR", "127.0.0.1:8787")

# List the recipes.
default:
    @just --list

# Add the Rust targets the components build for (no-op when present).
rust-targets:
    #!/usr/bin/env bash
    set -euo pipefail
    installed=$(rustup target list --installed)
    for t in wasm32-wasip2 wasm32-unknown-unknown; do
      grep -qx "$t" <<<"$installed" || rustup target add "$t"
    done

# Install a cargo tool when it is missing: just cargo-tool BIN CRATE VERSION [--locked]
cargo-tool bin crate version locked="--locked":
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v {{bin}} >/dev/null || ! {{bin}} --version 2>/dev/null | grep -q "{{version}}"; then
      cargo install {{locked}} {{crate}} --version {{version}}
    fi

# The tools worker-build runs (wasm-bindgen-cli = the locked wasm-bindgen crate; it does not build --locked).
worker-tools: rust-targets (cargo-tool "worker-build" "worker-build" "0.8.7") (cargo-tool "wasm-bindgen" "wasm-bindgen-cli" "0.2.130" "")

# Build the gateway component (the core as a WASI 0.2 HTTP component).
build-gateway: rust-targets
    cargo build -p learner-gateway --target wasm32-wasip2 --release
    mkdir -p build
    cp {{target}}/wasm32-wasip2/release/learner_gateway.wasm build/gateway.wasm
    @just _size build/gateway.wasm
    tests/hosts/release-clean.sh build/gateway.wasm

# The gateway with the test-only routes the port conformance suite drives.
build-gateway-test: rust-targets
    cargo build -p learner-gateway --target wasm32-wasip2 --release --features test-routes
    mkdir -p build
    cp {{target}}/wasm32-wasip2/release/learner_gateway.wasm build/gateway-test.wasm
    @just _size build/gateway-test.wasm

# Build the Spin application: the Spin adapter composed with the gateway (wac plug).
build-spin: build-gateway (cargo-tool "wac" "wac-cli" "0.12.0") (cargo-tool "wasm-tools" "wasm-tools" "1.263.0")
    @just _compose build/gateway.wasm build/spin-app.wasm

# The Spin application with the gateway's test-only routes.
build-spin-test: build-gateway-test (cargo-tool "wac" "wac-cli" "0.12.0") (cargo-tool "wasm-tools" "wasm-tools" "1.263.0")
    @just _compose build/gateway-test.wasm build/spin-app-test.wasm

_compose gateway out:
    cargo build -p learner-spin --target wasm32-wasip2 --release
    cp {{target}}/wasm32-wasip2/release/learner_spin.wasm build/spin-adapter.wasm
    wac plug {{gateway}} --plug build/spin-adapter.wasm -o {{out}}
    @just _size {{out}}
    tests/hosts/spin-imports.sh {{out}}

# Build the Cloudflare worker (prints the bundle size raw and gzipped).
build-worker: worker-tools
    hosts/cloudflare/build.sh
    tests/hosts/release-clean.sh hosts/cloudflare/build/index_bg.wasm hosts/cloudflare/build/index.js

# The worker with the test-only routes.
build-worker-test: worker-tools
    hosts/cloudflare/build.sh --test

# Build the wasmtime harness (`learner-mcp`).
build-harness:
    cargo build -p learner-wasmtime --profile release-native

# Serve the application with the harness (embedded SQLite in ./data).
serve: build-gateway build-harness
    {{harness}} serve --addr {{addr}} --data ./data --component build/gateway.wasm

# Serve the Spin application under the harness's Spin profile (Spin SQLite in ./data/spin).
serve-spin: build-spin build-harness
    {{harness}} serve --addr {{addr}} --data ./data --spin hosts/spin/spin.toml

# Serve the Cloudflare worker in local workerd (wrangler dev, offline; state in hosts/cloudflare/.wrangler).
serve-cf: build-worker
    hosts/cloudflare/dev.sh --port {{replace_regex(addr, '.*:', '')}}

# Check that the core builds for wasm32-unknown-unknown (as the Cloudflare worker links it).
check-core-wasm: rust-targets
    cargo check -p learner-core -p learner-oauth -p learner-mcp-server -p learner-dna -p learner-dna-mcp -p learner-app -p learner-test-routes -p learner-storage --target wasm32-unknown-unknown

# cargo-deny, and the RustSec database copy where it looks for it: a git repository
# dated by its snapshot (the copy at ../shared/advisory-db is a plain directory; nothing
# is fetched). The copy is found at $LEARNER_ADVISORY_DB, else ../shared/advisory-db
# beside the checkout, else /work/shared/advisory-db (this machine's, for a checkout
# cloned elsewhere, as CI's may be).
deny-tools: (cargo-tool "cargo-deny" "cargo-deny" "0.20.2")
    #!/usr/bin/env bash
    set -euo pipefail
    db="{{target}}/advisory-dbs/advisory-db-3157b0e258782691"
    source=""
    for candidate in "${LEARNER_ADVISORY_DB:-}" "{{root}}/../shared/advisory-db" /work/shared/advisory-db; do
      if [ -n "$candidate" ] && [ -f "$candidate/SNAPSHOT" ]; then source="$candidate"; break; fi
    done
    if [ -z "$source" ]; then
      echo "the RustSec advisory database copy was not found: set LEARNER_ADVISORY_DB to it" >&2
      exit 1
    fi
    if [ ! -d "$db/.git" ] || ! cmp -s "$source/SNAPSHOT" "$db/SNAPSHOT"; then
      rm -rf "$db"; mkdir -p "$db"
      cp -r "$source/." "$db/"
      date=$(grep -o '([0-9-]*)' "$source/SNAPSHOT" | tr -d '()')
      git -C "$db" init -q
      git -C "$db" add -A
      GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z" \
        git -C "$db" -c user.name=snapshot -c user.email=snapshot@localhost commit -qm "$(cat "$source/SNAPSHOT")"
    fi

# Licenses, bans, sources and advisories of every dependency (cargo-deny, offline).
deny: deny-tools
    CARGO_TARGET_DIR="{{target}}" cargo deny --offline check

# Formatting, lints, dependency policy and unit tests.
check: rust-targets deny
    cargo fmt --all -- --check
    cargo clippy --workspace --exclude learner-cloudflare --all-targets -- -D warnings
    cargo clippy -p learner-gateway -p learner-spin --target wasm32-wasip2 --all-features -- -D warnings
    cargo clippy -p learner-cloudflare --target wasm32-unknown-unknown --all-features -- -D warnings
    cargo test --workspace --exclude learner-conformance --exclude learner-cloudflare

# The official MCP conformance suite and the Node 22 it runs on, from the npm registry
# (pinned in tests/mcp-conformance/package-lock.json).
mcp-conformance-tools:
    cd tests/mcp-conformance && (npm ls --omit=dev >/dev/null 2>&1 || npm ci --no-audit --no-fund)

# Third-party MCP clients: from the npm registry (pinned in tests/mcp-clients/package-lock.json)
# and PyPI (tests/mcp-clients/requirements.txt, every version pinned by constraints.txt).
mcp-clients-tools:
    cd tests/mcp-clients && (npm ls --omit=dev >/dev/null 2>&1 || npm ci --no-audit --no-fund)
    cd tests/mcp-clients && (.venv/bin/python -c 'import mcp' 2>/dev/null || (python3 -m venv .venv && .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt))

# Debian's Chromium (and its driver) for the browser tests, from Debian's packages.
browser-tools:
    command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver)

# Against one running host: the port conformance suite, the HTTP surface, OAuth and MCP
# transport tests, the official MCP conformance suite, then third-party MCP clients and
# the sign-in and consent pages in Chromium (screenshots in tests/mcp-clients/artifacts/<host>/).
conformance host: mcp-conformance-tools mcp-clients-tools browser-tools
    cargo test -p learner-conformance --tests --no-run
    cargo build -p learner-conformance --bins
    tests/hosts/with-host.sh {{host}} -- bash -c 'cargo test -p learner-conformance --tests && tests/mcp-conformance/run.sh && LEARNER_HOST_NAME={{host}} tests/mcp-clients/run.sh'

# Release artifacts carry no test support; test builds do (so the check looks for the
# right thing).
release-clean: build-gateway build-worker build-gateway-test build-worker-test
    tests/hosts/release-clean.sh --test-build build/gateway-test.wasm hosts/cloudflare/build-test/index_bg.wasm

# Everything CI runs.
test: check check-core-wasm build-gateway-test build-spin-test build-worker-test build-harness release-clean
    just conformance wasmtime
    just conformance spin
    just conformance cloudflare

# Serve the reference stack the worker is measured against (bench/reference-stack:
# Cloudflare's OAuth provider and agents' MCP handler) on http://localhost:8788.
serve-reference:
    #!/usr/bin/env bash
    set -euo pipefail
    cd bench/reference-stack
    . ../../hosts/cloudflare/node-env.sh
    exec node_modules/.bin/wrangler dev --port 8788 --ip 127.0.0.1

# The reference stack and every host (worker, harness, Spin) under the same load, side by
# side: latency per step of the OAuth and MCP flow, CPU per request, port calls,
# tools/call throughput at 1/4/16 connections, memory (bench/hosts.sh; the reports go to
# bench/results/). `just bench-hosts harness` measures one.
bench-hosts *hosts: build-gateway build-spin build-worker build-harness
    cargo build -p learner-load --profile release-native
    bench/hosts.sh {{hosts}}

# Criterion benchmarks (harness per-request instantiation, ...).
bench: build-gateway
    cargo bench -p learner-wasmtime --profile release-native

_size file:
    @printf '%s: %s bytes, %s gzipped\n' {{file}} $(stat -c %s {{file}}) $(gzip -9 -c {{file}} | wc -c)
