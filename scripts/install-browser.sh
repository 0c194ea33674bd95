#!/usr/bin/env bash
# Installs Debian's Chromium (and a CJK font, so Chinese renders in screenshots) for the
# dashboard browser test, unless they are already there. Test tools cannot download browsers here.
set -euo pipefail
have_browser=""
for candidate in "${CRM_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-headless-shell; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then have_browser=1; fi
done
have_font=""
if fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then have_font=1; fi
[ -n "$have_browser" ] && [ -n "$have_font" ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "install-browser: Chromium or a CJK font is missing and this is not root;" \
    "run 'sudo apt-get install chromium fonts-wqy-microhei'" >&2
  exit 1
fi
echo "install-browser: installing Debian's chromium and fonts-wqy-microhei (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
