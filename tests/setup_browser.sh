#!/bin/sh
# Install Debian's chromium for the view's browser tests (tests/test_view_browser.py) when it
# is missing. Idempotent and quiet: does nothing when the browser is there already. Playwright's
# own browser download is not used (`playwright install` is never run).
#   sh tests/setup_browser.sh            # as root, or with sudo available
set -eu
CHROMIUM="${BT_SIM_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq chromium >/dev/null
if [ ! -x "$CHROMIUM" ]; then
    echo "setup_browser.sh: chromium was installed but $CHROMIUM is missing" >&2
    exit 1
fi
