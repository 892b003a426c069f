#!/bin/sh
# Known vulnerabilities of the locked packages: pip-audit over requirements.lock, with PyPI's
# vulnerability data (no install: the lock pins every package). The ones accepted for now are
# in deploy/audit-allow.txt, each with its reason; tests/unit/test_supply_chain.py fails on any other.
set -eu
cd "$(dirname "$0")/../.."
sh deploy/scripts/ensure-pip-audit.sh
ignore=""
if [ -f deploy/audit-allow.txt ]; then
    for id in $(sed -e 's/#.*//' deploy/audit-allow.txt | awk 'NF { print $1 }'); do
        ignore="$ignore --ignore-vuln $id"
    done
fi
# shellcheck disable=SC2086
exec .lec/tools/pip-audit/bin/pip-audit --requirement requirements.lock --disable-pip --no-deps \
    --vulnerability-service pypi --progress-spinner off --cache-dir .lec/tools/pip-audit-cache $ignore "$@"
