#!/bin/sh
# pip-audit in a venv of its own (.lec/tools/pip-audit), for the vulnerability audit of
# requirements.lock (deploy/scripts/audit.sh, tests/unit/test_supply_chain.py). Installed
# from PyPI when missing; exits non-zero when it cannot be.
set -eu
cd "$(dirname "$0")/../.."
TOOL=.lec/tools/pip-audit
if [ -x "$TOOL/bin/pip-audit" ]; then
    exit 0
fi
PYTHON=${PYTHON:-python3}
echo "installing pip-audit for the vulnerability audit ($TOOL)"
rm -rf "$TOOL"
"$PYTHON" -m venv "$TOOL"
"$TOOL/bin/pip" install -q --disable-pip-version-check 'pip-audit>=2.7,<3'
