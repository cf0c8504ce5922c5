#!/usr/bin/env bash
# Make sure Node.js and npm exist for the Node example merchant (examples/merchant-node), which the merchant-mode
# tests install with `npm ci` into a folder of their own: the system's first, then Debian's nodejs and npm
# packages (as root), as ensure-chromium.sh does for Chromium. Elsewhere it says what to install; the Node tests
# then skip, saying why.
set -euo pipefail
found() { command -v "$1" 2>/dev/null; }
if found node >/dev/null && found npm >/dev/null; then
  echo "node: $(found node) $(node --version), npm $(npm --version)"; exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "node: installing Debian's nodejs and npm packages" >&2
  (apt-get install -y -qq nodejs npm >/dev/null 2>&1) || (apt-get update -qq >/dev/null && apt-get install -y -qq nodejs npm >/dev/null)
  echo "node: $(found node) $(node --version), npm $(npm --version)"; exit 0
fi
echo "node: not found; install Node.js 18 or later with npm to run the Node example merchant's tests" >&2
