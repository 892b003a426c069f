"""Cross-cutting request handling: request ids and body size limits."""
import re
import uuid

from services.common.errors import LecError

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class RequestId:
    def process_request(self, req, resp):
        given = req.get_header("X-Request-ID")
        req.context.request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        resp.set_header("X-Request-ID", req.context.request_id)


class LimitedStream:
    def __init__(self, stream, limit):
        self._stream = stream
        self._left = limit

    def _take(self, data):
        self._left -= len(data)
        if self._left < 0:
            raise LecError("payload_too_large", "the request body is too large")
        return data

    def read(self, size=-1):
        return self._take(self._stream.read(size))

    def readline(self, size=-1):
        return self._take(self._stream.readline(size))

    def __iter__(self):
        for chunk in self._stream:
            yield self._take(chunk)


class BodyLimit:
    """Bodies above ``max_body`` (or a resource's own ``max_body``) answer 413."""

    def __init__(self, default_limit):
        self.default_limit = default_limit

    def process_resource(self, req, resp, resource, params):
        limit = getattr(resource, "max_body", None) or self.default_limit
        length = req.content_length
        if length is not None and length > limit:
            raise LecError("payload_too_large", f"the request body exceeds {limit} bytes")
        if length is None and req.get_header("Transfer-Encoding"):
            req.stream = LimitedStream(req.stream, limit)
