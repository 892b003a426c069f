"""Error types shared by the services and the gateway.

A service raises :class:`LecError` with a stable machine code; nameko carries
it over RPC and the gateway turns it into the HTTP answer of API.md using
:data:`HTTP_STATUS`. Extra fields (``held_by``, ``pending``, ``errors``) travel
as JSON so that numbers stay numbers across the broker.
"""
import json

from nameko.exceptions import deserialize_to_instance

HTTP_STATUS = {
    "invalid_credentials": 401,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "validation_error": 422,
    "invalid_national_id": 422,
    "invalid_g_code": 422,
    "age_out_of_range": 422,
    "invalid_file": 422,
    "invalid_document": 422,
    "unsupported_media_type": 415,
    "duplicate_learner": 409,
    "duplicate_staff": 409,
    "transfer_pending": 409,
    "round_not_open": 409,
    "unit_confirmed": 409,
    "children_not_confirmed": 409,
    "already_confirmed": 409,
    "not_confirmed": 409,
    "parent_confirmed": 409,
    "checks_failed": 409,
    "conflict": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "service_unavailable": 503,
    "internal_error": 500,
    # answered by the HTTP server before the application reads the request
    "bad_request": 400,
    "uri_too_long": 414,
    "header_too_large": 431,
    "not_implemented": 501,
}

TITLES = {
    "invalid_credentials": "Invalid credentials",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "not_found": "Not found",
    "validation_error": "Validation error",
    "invalid_national_id": "Invalid national ID",
    "invalid_g_code": "Invalid G-Code",
    "age_out_of_range": "Age out of range",
    "duplicate_learner": "Duplicate learner",
    "duplicate_staff": "Duplicate staff",
    "transfer_pending": "Transfer pending",
    "round_not_open": "Round not open",
    "unit_confirmed": "Unit confirmed",
    "children_not_confirmed": "Children not confirmed",
    "already_confirmed": "Already confirmed",
    "not_confirmed": "Not confirmed",
    "parent_confirmed": "Parent confirmed",
    "checks_failed": "Checks failed",
    "conflict": "Conflict",
    "payload_too_large": "Payload too large",
    "invalid_document": "Invalid document",
    "rate_limited": "Too many requests",
    "service_unavailable": "Service unavailable",
    "bad_request": "Bad request",
    "uri_too_long": "URI too long",
    "header_too_large": "Request header fields too large",
    "not_implemented": "Not implemented",
}


@deserialize_to_instance
class LecError(Exception):
    """An expected, user-facing failure with a stable ``code``."""

    def __init__(self, code, description="", extra=None):
        if isinstance(extra, str):
            extra = json.loads(extra) if extra else {}
        self.code = code
        self.description = description
        self.extra = dict(extra or {})
        # args must survive nameko's serialisation: strings only
        super().__init__(code, description, json.dumps(self.extra, default=str))

    @property
    def status(self):
        return HTTP_STATUS.get(self.code, 400)

    @property
    def title(self):
        return TITLES.get(self.code, self.code.replace("_", " ").capitalize())

    def to_dict(self):
        body = {"code": self.code, "title": self.title, "description": self.description}
        for key, value in self.extra.items():
            body.setdefault(key, value)
        return body

    def __str__(self):
        return f"{self.code}: {self.description}"


def not_found(what="resource"):
    return LecError("not_found", f"{what} not found")


def forbidden(description="you may not do this here"):
    return LecError("forbidden", description)


def conflict(description, **extra):
    return LecError("conflict", description, extra)


def validation_error(errors, description="the request is not valid"):
    """``errors`` maps a field name to a list of messages."""
    normalised: dict = {}
    for field, messages in (errors or {}).items():
        if isinstance(messages, (list, tuple)):
            normalised[str(field)] = [m if isinstance(m, (str, dict)) else str(m) for m in messages]
        elif isinstance(messages, dict):
            normalised[str(field)] = messages
        else:
            normalised[str(field)] = [str(messages)]
    return LecError("validation_error", description, {"errors": normalised})


def service_unavailable(description="a service did not answer in time"):
    return LecError("service_unavailable", description)
