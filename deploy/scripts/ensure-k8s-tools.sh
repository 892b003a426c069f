#!/bin/sh
# The Kubernetes manifest tests (tests/unit/test_k8s_manifests.py) render every
# overlay with `kubectl kustomize`, validate the built-in kinds with
# kubernetes-validate and scan the result with checkov. Install what is missing:
# kubectl from Debian's kubernetes-client package, and the two Python tools into
# a virtualenv of their own (.lec/tools/venv), apart from the project's, since
# checkov brings many pinned dependencies. Where nothing can be installed, say
# how; the tests then skip, or fail under `make test` (LEC_REQUIRE_TOOLS=1).
set -eu
cd "$(dirname "$0")/../.."
TOOLS=.lec/tools
VENV=$TOOLS/venv
PYTHON=${PYTHON:-python3}
REQUIREMENTS="checkov>=3.2,<4 kubernetes-validate>=1.30,<2"

if ! command -v kubectl >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "installing kubectl for the manifest tests (apt-get install kubernetes-client)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
    elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then
        echo "installing kubectl for the manifest tests (sudo apt-get install kubernetes-client)"
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null \
            || echo "no kubectl: install Debian's kubernetes-client package" >&2
    else
        echo "no kubectl: install Debian's kubernetes-client package (or any kubectl >= 1.27)" >&2
    fi
fi

# the overlays need the kustomize of kubectl 1.22 or later (Debian 12's package is 1.20)
if command -v kubectl >/dev/null 2>&1; then
    minor=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1)
    if [ -n "$minor" ] && [ "$minor" -lt 22 ]; then
        echo "kubectl 1.$minor is too old for deploy/k8s (its kustomize): install kubectl 1.22 or later" >&2
    fi
fi

# the stamp names what was installed: a change of the requirements reinstalls
STAMP=$VENV/.installed
if [ -x "$VENV/bin/checkov" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQUIREMENTS" ]; then
    exit 0
fi
mkdir -p "$TOOLS"
echo "installing checkov and kubernetes-validate into $VENV"
if "$PYTHON" -m venv "$VENV" \
    && "$VENV/bin/pip" install -q --disable-pip-version-check $REQUIREMENTS; then
    printf '%s' "$REQUIREMENTS" > "$STAMP"
else
    echo "could not install checkov and kubernetes-validate into $VENV (is PyPI reachable?)" >&2
fi
