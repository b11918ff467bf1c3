#!/usr/bin/env bash
# Install the Node MCP servers and the MCP Inspector CLI for the MCP client tests (tests/tools/mcp_client).
#
#   bash scripts/ci/mcp_servers.sh
#
# Copies scripts/ci/mcp-npm/package.json and its package-lock.json (exact, pinned versions of
# @modelcontextprotocol/server-everything and @modelcontextprotocol/inspector) into .cache/mcp-npm/ and
# runs `npm ci` there, so the binaries land in .cache/mcp-npm/node_modules/.bin/. Safe to run again:
# when both binaries are present and the lock file is the one last installed, it returns at once.
# Prints one line (to stderr) on success; on failure, npm's output and a one-line reason, and a
# non-zero exit. The tests that need these servers skip, saying why, when they are absent.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SRC="$ROOT/scripts/ci/mcp-npm"
DEST="$ROOT/.cache/mcp-npm"
BIN="$DEST/node_modules/.bin"
STAMP="$DEST/.installed-package-lock.json"

log() { echo "mcp_servers.sh: $*" >&2; }

command -v npm >/dev/null 2>&1 || { log "npm is not on PATH; install Node.js and npm to get the MCP test servers"; exit 1; }

installed() {
  [[ -x "$BIN/mcp-server-everything" && -x "$BIN/mcp-inspector" ]] &&
    cmp -s "$SRC/package-lock.json" "$STAMP" && cmp -s "$SRC/package.json" "$DEST/package.json"
}

versions() {
  node -e 'const l = require(process.argv[1]).packages;
    console.log(["server-everything", "inspector"].map(n => `${n} ${l["node_modules/@modelcontextprotocol/" + n].version}`).join(", "))' \
    "$DEST/package-lock.json" 2>/dev/null || echo "versions unknown"
}

if installed; then
  log "up to date in .cache/mcp-npm ($(versions))"
  exit 0
fi

mkdir -p "$DEST"
rm -f "$STAMP"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
# --ignore-scripts: neither package needs an install script (the Inspector's postinstall is a no-op outside
# its own source checkout). --loglevel=error hides the EBADENGINE warnings older Node versions get.
if ! output="$(cd "$DEST" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error 2>&1)"; then
  echo "$output" >&2
  log "npm ci failed in .cache/mcp-npm (see npm's output above)"
  exit 1
fi
[[ -x "$BIN/mcp-server-everything" && -x "$BIN/mcp-inspector" ]] ||
  { log "npm ci succeeded but mcp-server-everything or mcp-inspector is missing from $BIN"; exit 1; }
cp "$SRC/package-lock.json" "$STAMP"
log "installed into .cache/mcp-npm ($(versions))"
