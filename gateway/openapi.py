"""OpenAPI 3 document, built from the route table and the marshmallow schemas.

Each resource describes its operations in ``docs = {METHOD: {...}}``:

- ``summary``, ``tag``; ``operation_id`` (by default the method and the
  resource's class name, e.g. ``getOrgUnit``: the tests check they are unique);
- ``request``: the Schema of the JSON body (``request_required=False`` when it
  may be left out); ``request_content``: the body's media types when it is not
  JSON ({media type: {"schema": ...}});
- ``status``: the status of success as answered (200 unless given; a create
  answers 201, an answer without a body 204);
- ``response``: the Schema of the JSON answer; ``list=True`` wraps it as
  ``{items, total}`` and documents ``limit`` and ``offset`` (unless
  ``paged=False``: the whole list at once); ``files``: other
  media types of the same answer, chosen by ``Accept`` or ``?format=``
  ({media type: {"schema": ...}}); ``content`` instead of ``response`` for an
  answer that is only a file;
- ``query``: {name: (type, description)}.

The document is strict: an object schema made from a marshmallow schema admits
no property it does not list (marshmallow refuses unknown fields on input, and
every field an answer carries must be documented). Every operation documents
the errors any request may meet; 406 where other media types are offered and
415 where it takes a body. The tests check that every operation has a unique
``operationId`` and every successful answer but 204 a schema, and run
schemathesis against the running system.
"""
import re

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from gateway.access import policy_for, responder_methods
from services.enrollment.schemas import CheckItem, HeldIn, Rejection, TransferPossible
from services.rounds.schemas import Instant

MAX_ID = 2 ** 63 - 1  # ids are PostgreSQL bigints

ERROR_STATUSES = {
    "400": "bad_request: a request the HTTP server could not read",
    "401": "unauthorized / invalid_credentials", "403": "forbidden",
    "404": "not_found", "409": "conflict and the domain's 409 codes", "413": "payload_too_large",
    "422": "validation_error and the domain's 422 codes", "429": "rate_limited",
    "503": "service_unavailable",
    # answered by the HTTP server itself, before the application reads the request
    "414": "uri_too_long", "431": "header_too_large",
}
NOT_ACCEPTABLE = {"406": "not_acceptable: none of the media types offered is acceptable"}
UNSUPPORTED_MEDIA = {"415": "unsupported_media_type: the body is not of a media type documented"}


class WindowState(ma.Schema):
    state = fields.String(metadata={"description": "scheduled, open, closed or finalized"})
    opens_at = fields.String(allow_none=True, metadata={"description": "ISO 8601"})
    closes_at = fields.String(allow_none=True, metadata={"description": "ISO 8601, extensions included"})
    extended = fields.Boolean(allow_none=True)


class Error(ma.Schema):
    code = fields.String(required=True, metadata={"description": "stable machine code"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "validation_error: field -> messages"})
    held_by = fields.Integer(metadata={"description": "duplicate_learner / duplicate_staff: the holder, if the caller may read it"})
    held_in = fields.Nested(HeldIn, metadata={"description": "duplicate_learner / duplicate_staff otherwise: the holder's province {code, name}"})
    transfer = fields.Nested(TransferPossible, metadata={
        "description": "duplicate_learner: {possible: true} when the caller may ask the holder for "
                       "the child (POST /rounds/{rid}/transfers)"})
    transfer_id = fields.Integer(metadata={"description": "transfer_pending: the pending request"})
    answerable_at = fields.String(metadata={
        "description": "forbidden on a transfer's answer: when the caller's level may answer (ISO 8601)"})
    pending = fields.List(fields.Integer(), metadata={"description": "children_not_confirmed: ids"})
    items = fields.List(fields.Nested(CheckItem), metadata={
        "description": "checks_failed: the errors and the queries not explained that stop the confirmation"})
    retry_after = fields.Integer(metadata={"description": "rate_limited: seconds"})
    version = fields.Integer(metadata={"description": "conflict on a versioned change: the record's "
                                                      "current version (read it again)"})
    locked = fields.Boolean(metadata={"description": "rate_limited at sign-in: the account is locked "
                                                     "until a user of a unit above resets its password"})
    window = fields.Nested(WindowState, metadata={"description": "round_not_open: the round's window "
                                                                 "for the unit"})
    # an import that failed part way: what the rows before the failure did
    accepted = fields.Integer(metadata={"description": "import failed part way: rows that added a learner"})
    unchanged = fields.Integer(metadata={"description": "import failed part way: rows already recorded"})
    rejected = fields.List(fields.Nested(Rejection), metadata={"description": "import failed part way"})
    rejected_total = fields.Integer(metadata={"description": "import failed part way"})
    rows = fields.Integer(metadata={"description": "import failed part way: data rows read"})


def operation_id(resource, method):
    """``getOrgUnit``: the method and the resource's class name (less a
    ``Resource`` ending)."""
    return method.lower() + type(resource).__name__.removesuffix("Resource")


def _strict(schema):
    """An object made from a marshmallow schema admits no other property."""
    if schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
    return schema


def _page(schema):
    return {"type": "object", "required": ["items", "total"], "additionalProperties": False,
            "properties": {"items": {"type": "array", "items": schema},
                           "total": {"type": "integer", "minimum": 0}}}


class Builder:
    """One OpenAPI document: operations are added from resources' ``docs``."""

    def __init__(self, prefix):
        self.plugin = MarshmallowPlugin()
        self.spec = APISpec(
            title="LEC: the local education census", version="1.0.0", openapi_version="3.0.3",
            plugins=[self.plugin],
            info={"description": "Learner register, hierarchical confirmation and reports of the "
                                 "Department of Local Administration's education census."},
            servers=[{"url": prefix}],
        )
        self.plugin.map_to_openapi_type(Instant, "string", "date-time")
        self.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                        "bearerFormat": "JWT"})
        self.spec.components.schema("Error", schema=Error)

    def ref(self, schema):
        """A reference to the schema's component (registered on first use, as
        the schemas it nests are)."""
        return self.plugin.converter.resolve_nested_schema(schema)

    def operation(self, resource, method, path, params):
        policy = policy_for(resource, method)
        doc = (getattr(resource, "docs", None) or {}).get(method, {})
        op = {
            "operationId": doc.get("operation_id") or operation_id(resource, method),
            "summary": doc.get("summary") or (resource.__doc__ or "").strip().split("\n")[0]
            or f"{method} {path}",
            "tags": [doc.get("tag") or path.strip("/").split("/")[0]],
            "parameters": [{"name": p, "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
                           for p in params],
            "responses": {},
        }
        op["parameters"] += self.query(doc)
        if not policy.public:
            op["security"] = [{"bearer": []}]
        body = self.request_body(doc)
        if body:
            op["requestBody"] = body
        op["responses"][str(doc.get("status", 200))] = self.success(doc)
        errors = dict(ERROR_STATUSES)
        if doc.get("files"):
            errors.update(NOT_ACCEPTABLE)
        if body:
            errors.update(UNSUPPORTED_MEDIA)
        for code, desc in sorted(errors.items()):
            op["responses"].setdefault(code, {
                "description": desc,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
        return op

    @staticmethod
    def query(doc):
        params = [{"name": name, "in": "query", "required": False, "schema": {"type": typ},
                   "description": desc} for name, (typ, desc) in (doc.get("query") or {}).items()]
        if doc.get("list") and doc.get("paged", True):
            params += [
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "default": 50, "minimum": 1, "maximum": 1000}},
                {"name": "offset", "in": "query", "required": False,
                 "schema": {"type": "integer", "default": 0, "minimum": 0}}]
        return params

    def request_body(self, doc):
        content = {}
        if doc.get("request") is not None:
            content["application/json"] = {"schema": self.ref(doc["request"])}
        content.update(doc.get("request_content") or {})
        if not content:
            return None
        return {"required": doc.get("request_required", True), "content": content}

    def success(self, doc):
        response = {"description": doc.get("response_description", "OK")}
        content = {}
        if doc.get("response") is not None:
            schema = self.ref(doc["response"])
            content["application/json"] = {"schema": _page(schema) if doc.get("list") else schema}
        content.update(doc.get("files") or doc.get("content") or {})
        if content:
            response["content"] = content
        return response

    def to_dict(self):
        doc = self.spec.to_dict()
        for schema in doc.get("components", {}).get("schemas", {}).values():
            _strict(schema)
        return doc


def build_spec(routes, prefix="/api/v1"):
    builder = Builder(prefix)
    for uri, resource in routes:
        if not uri.startswith(prefix):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", uri[len(prefix):])
        params = re.findall(r"\{(\w+)\}", path)
        operations = {method.lower(): builder.operation(resource, method, path, params)
                      for method in responder_methods(resource)}
        if operations:
            builder.spec.path(path=path, operations=operations)
    return builder.to_dict()
