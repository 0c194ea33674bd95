#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard browser test, unless a Chromium is already there.
set -euo pipefail
for candidate in "${CRM_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-headless-shell; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then exit 0; fi
done
if [ "$(id -u)" != "0" ]; then
  echo "install-browser: Chromium missing and not root; run 'sudo apt-get install chromium'" >&2
  exit 1
fi
echo "install-browser: installing Debian's chromium (apt-get)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
