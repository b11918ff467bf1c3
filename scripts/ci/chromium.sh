#!/usr/bin/env bash
# Install headless Chromium and its WebDriver for the browser tests (tests/serve/test_web_chat.py).
#
#   bash scripts/ci/chromium.sh
#
# Installs Debian's `chromium` and `chromium-driver` packages non-interactively when either binary is
# missing (one `apt-get update`, then one install). Safe to run again: when both are present it only
# prints their versions and returns at once. Progress goes to stderr; the test skips, saying why,
# when the binaries are absent.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

have() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if ! have; then
  log "installing chromium and chromium-driver from apt"
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=()
  if [[ "$(id -u)" != "0" ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
  have || { log "chromium-driver installed but chromium or chromedriver is not on PATH"; exit 1; }
fi

log "$(chromium --version 2>/dev/null | head -n 1); $(chromedriver --version 2>/dev/null | head -n 1)"
