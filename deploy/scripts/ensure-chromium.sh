#!/bin/sh
# The browser tests drive the portal in Debian's Chromium. Install it (with Thai
# fonts, so screenshots show Thai) when it is missing and this is a Debian
# machine we may install on; elsewhere say how, and the browser tests will fail
# under `make test` (LEC_REQUIRE_BROWSER=1) instead of passing unseen.
set -eu
if [ "${LEC_TEST_SKIP_BROWSER:-}" = 1 ] || [ -n "${LEC_TEST_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing Chromium for the browser tests (apt-get install chromium fonts-thai-tlwg)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    echo "installing Chromium for the browser tests (sudo apt-get install chromium fonts-thai-tlwg)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null && exit 0
fi
echo "no Chromium: install Debian's chromium package, or set LEC_TEST_CHROMIUM to a Chromium binary" >&2
