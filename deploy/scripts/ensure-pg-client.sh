#!/bin/sh
# The restore drill (tests/system/test_restore_drill.py) dumps and restores a
# database with pg_dump and pg_restore. Install Debian's PostgreSQL client
# programs when they are missing and this is a Debian machine we may install on;
# elsewhere say how, and the drill fails under LEC_REQUIRE_TOOLS=1 instead of
# passing unseen.
set -eu
if command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing PostgreSQL's client programs for the restore drill (apt-get install postgresql-client)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql-client >/dev/null
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
    echo "installing PostgreSQL's client programs (sudo apt-get install postgresql-client)"
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null && exit 0
fi
echo "no pg_dump/pg_restore: install Debian's postgresql-client package (as new as the server)" >&2
