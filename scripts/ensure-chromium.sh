#!/usr/bin/env bash
# Make sure a Chromium the suite can drive exists: system Chromium first, then Debian's package
# (as root), then Playwright's managed browser. Prints the browser it settled on.
set -euo pipefail
py=${1:-.venv/bin/python}
for candidate in "${DANA_UAT_CHROMIUM:-}" /usr/bin/chromium chromium chromium-browser google-chrome google-chrome-stable; do
  [ -n "$candidate" ] || continue
  if path=$(command -v "$candidate" 2>/dev/null); then echo "chromium: $path"; exit 0; fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "chromium: installing Debian's chromium package" >&2
  (apt-get install -y -qq chromium >/dev/null 2>&1) || (apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null)
  echo "chromium: $(command -v chromium)"; exit 0
fi
echo "chromium: no system Chromium; installing Playwright's managed browser" >&2
"$py" -m playwright install chromium
echo "chromium: playwright-managed"
