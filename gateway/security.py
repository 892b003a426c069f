"""Response headers that protect the portal and the data it shows.

Rules (every answer: API, portal page, static files, errors, and the errors
gunicorn writes itself, see gateway/httperrors.py):

- ``Content-Security-Policy``: scripts, styles, images and connections from
  this origin only; no inline script or style, no plugin, no ``<base>``, no
  framing. The portal's own code is in files (gateway/static). The one inline
  style and the one inline script allowed, by their hashes, are the printable
  report's (``PRINT_CSS`` and ``PRINT_SCRIPT`` of services/reporting/render.py):
  a self-contained page that the portal opens from a blob URL, which keeps the
  portal's policy and cannot load files by relative URL.
- ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``.
- ``Cache-Control: no-store`` on every answer under ``/api/v1`` (they carry
  personal data, errors included) except the OpenAPI document.
- ``Allow`` on a 405 answer (and on the answer to ``OPTIONS``): the methods
  the resource answers.
- No ``Server`` banner (gunicorn's is removed in gateway/httperrors.py).
"""
import base64
import hashlib

from gateway.access import responder_methods
from gateway.render import PRINT_CSS, PRINT_SCRIPT

API_PREFIX = "/api/v1"
CACHEABLE_API_PATHS = frozenset({API_PREFIX + "/openapi.json"})


def _source_hash(text):
    """A CSP source allowing exactly one inline ``<script>`` or ``<style>``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    f"script-src 'self' {_source_hash(PRINT_SCRIPT)}",
    f"style-src 'self' {_source_hash(PRINT_CSS)}",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def is_personal(path):
    """Whether an answer to ``path`` may carry personal data (never cached)."""
    return (path == API_PREFIX or path.startswith(API_PREFIX + "/")) and path not in CACHEABLE_API_PATHS


def allowed_methods(resource):
    """What a 405 names in ``Allow``: the resource's responders (HEAD with GET is
    not answered) and OPTIONS, which Falcon answers for every resource."""
    return responder_methods(resource) + ["OPTIONS"]


class SecurityHeaders:
    """Falcon middleware: the headers above on every answer the app writes."""

    def process_response(self, req, resp, resource, req_succeeded):
        for name, value in HEADERS.items():
            resp.set_header(name, value)
        if is_personal(req.path):
            resp.set_header("Cache-Control", "no-store")
        if resource is not None and (resp.status_code == 405 or req.method == "OPTIONS"):
            resp.set_header("Allow", ", ".join(allowed_methods(resource)))
