"""The gateway's readiness probe for containers.

``python -m gateway.probe`` exits 0 when the gateway of this container answers
``/readyz`` with 200: this gateway process and the broker are ready (a service
that is down does not take the gateway out; see gateway/resources/health.py). It sends
``LEC_OPS_TOKEN`` (when set) as the bearer, which an HTTP probe of the
orchestrator could only carry written out in the manifest. The gateway is found
at ``http://127.0.0.1:$PORT`` (``PORT`` defaults to 8000).
"""
import sys
import urllib.error
import urllib.request

from services.common import settings


def main(path="/readyz"):
    configured = settings.current()
    url = f"http://127.0.0.1:{configured.port}{path}"
    request = urllib.request.Request(url)
    token = configured.ops_token
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
