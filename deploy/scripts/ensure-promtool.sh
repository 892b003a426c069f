#!/bin/sh
# The metrics tests check the gateway's and a service's /metrics with Prometheus's
# `promtool check metrics`. When no promtool is on PATH or in .lec/tools/bin, take
# it out of Debian's prometheus package: the .deb is downloaded (apt-get download,
# no root needed) and unpacked with dpkg -x into .lec/tools/prometheus, so no
# Prometheus daemon is installed or started. Elsewhere say how; the tests then
# fail under `make test` (LEC_REQUIRE_TOOLS=1) instead of passing unseen.
set -eu
cd "$(dirname "$0")/../.."
TOOLS="$PWD/.lec/tools"
if command -v promtool >/dev/null 2>&1 || [ -x "$TOOLS/bin/promtool" ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
    echo "unpacking promtool from Debian's prometheus package into .lec/tools/ (apt-get download prometheus)"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    if ! (cd "$work" && apt-get download prometheus >/dev/null 2>&1); then
        if [ "$(id -u)" = 0 ]; then
            apt-get update -qq >/dev/null
            (cd "$work" && apt-get download prometheus >/dev/null)
        fi
    fi
    deb=$(ls "$work"/prometheus_*.deb 2>/dev/null | head -n 1)
    if [ -n "$deb" ]; then
        rm -rf "$TOOLS/prometheus"
        mkdir -p "$TOOLS/prometheus" "$TOOLS/bin"
        dpkg -x "$deb" "$TOOLS/prometheus"
        ln -sf "$TOOLS/prometheus/usr/bin/promtool" "$TOOLS/bin/promtool"
        "$TOOLS/bin/promtool" --version >/dev/null
        exit 0
    fi
fi
echo "no promtool: install Debian's prometheus package (or put promtool on PATH)" >&2
