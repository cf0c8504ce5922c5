#!/usr/bin/env bash
# Make sure a Chromium the suite can drive exists: system Chromium first, then Debian's packages
# (as root), then Playwright's managed browser. Prints the browsers it settled on.
# Debian's chromium-headless-shell is what headless runs launch (conformance/browser/discovery.py: half the CPU
# of the full browser); the full chromium stays for --headed. Where the shell cannot be installed, the full
# browser runs headless too.
set -euo pipefail
py=${1:-.venv/bin/python}
found() { command -v "$1" 2>/dev/null; }
apt_install() {   # quiet; refresh the package lists once if the first try fails
  (apt-get install -y -qq "$@" >/dev/null 2>&1) || (apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null)
}
as_root_on_debian() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; }

# NSS's certutil gives Chromium the CAs of DANA_UAT_CA_BUNDLE (conformance/browser/trust.py)
if ! found certutil >/dev/null && as_root_on_debian; then
  apt_install libnss3-tools || echo "chromium: no libnss3-tools package here; DANA_UAT_CA_BUNDLE cannot reach Chromium" >&2
fi
if [ -n "${DANA_UAT_CHROMIUM:-}" ] && found "$DANA_UAT_CHROMIUM" >/dev/null; then
  echo "chromium: $(found "$DANA_UAT_CHROMIUM") (DANA_UAT_CHROMIUM)"; exit 0
fi
if ! found chromium-headless-shell >/dev/null && as_root_on_debian; then
  echo "chromium: installing Debian's chromium-headless-shell package" >&2
  apt_install chromium-headless-shell || echo "chromium: no chromium-headless-shell package here; headless runs use the full browser" >&2
fi
for candidate in /usr/bin/chromium chromium chromium-browser google-chrome google-chrome-stable; do
  if path=$(found "$candidate"); then
    echo "chromium: $path"; found chromium-headless-shell >/dev/null && echo "chromium: headless runs use $(found chromium-headless-shell)"
    exit 0
  fi
done
if as_root_on_debian; then
  echo "chromium: installing Debian's chromium package" >&2
  apt_install chromium
  echo "chromium: $(found chromium)"; exit 0
fi
echo "chromium: no system Chromium; installing Playwright's managed browser" >&2
"$py" -m playwright install chromium
echo "chromium: playwright-managed"
