"""OpenAPI 3 document, built from the route table and the marshmallow schemas.

Each resource may carry ``docs = {"POST": {"summary": ..., "request": Schema,
"response": Schema, "status": 201, "list": True, "query": {...}}}``.
"""
import re

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from gateway.access import policy_for, responder_methods

ERROR_STATUSES = {
    "400": "Bad request", "401": "unauthorized / invalid_credentials", "403": "forbidden",
    "404": "not_found", "409": "conflict and the domain's 409 codes", "413": "payload_too_large",
    "422": "validation_error and the domain's 422 codes", "429": "rate_limited",
    "503": "service_unavailable",
}


class Error(ma.Schema):
    code = fields.String(required=True, metadata={"description": "stable machine code"})
    title = fields.String(required=True)
    description = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "validation_error: field -> messages"})
    held_by = fields.Integer(metadata={"description": "duplicate_learner: the holding institution"})
    pending = fields.List(fields.Integer(), metadata={"description": "children_not_confirmed: ids"})
    retry_after = fields.Integer(metadata={"description": "rate_limited: seconds"})


def _schema_name(schema):
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__


def build_spec(routes, prefix="/api/v1"):
    spec = APISpec(
        title="LEC: the local education census", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "Learner register, hierarchical confirmation and reports of the "
                             "Department of Local Administration's education census."},
        servers=[{"url": prefix}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", schema=Error)
    registered = {"Error"}

    def ref(schema):
        name = _schema_name(schema)
        if name not in registered:
            spec.components.schema(name, schema=schema)
            registered.add(name)
        return {"$ref": f"#/components/schemas/{name}"}

    for uri, resource in routes:
        if not uri.startswith(prefix):
            continue
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", uri[len(prefix):])
        params = re.findall(r"\{(\w+)\}", path)
        operations = {}
        for method in responder_methods(resource):
            policy = policy_for(resource, method)
            doc = (getattr(resource, "docs", None) or {}).get(method, {})
            op = {
                "summary": doc.get("summary") or (resource.__doc__ or "").strip().split("\n")[0]
                or f"{method} {path}",
                "tags": [doc.get("tag") or path.strip("/").split("/")[0]],
                "parameters": [{"name": p, "in": "path", "required": True,
                                "schema": {"type": "integer"}} for p in params],
                "responses": {},
            }
            for name, (typ, desc) in (doc.get("query") or {}).items():
                op["parameters"].append({"name": name, "in": "query", "required": False,
                                         "schema": {"type": typ}, "description": desc})
            if doc.get("list"):
                op["parameters"] += [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 50,
                                                                "maximum": 1000}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}}]
            if not policy.public:
                op["security"] = [{"bearer": []}]
            if doc.get("request") is not None:
                op["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": ref(doc["request"])}}}
            if doc.get("request_content"):
                op["requestBody"] = {"required": True, "content": doc["request_content"]}
            status = str(doc.get("status", 200))
            response = {"description": doc.get("response_description", "OK")}
            if doc.get("response") is not None:
                schema = ref(doc["response"])
                if doc.get("list"):
                    schema = {"type": "object", "properties": {
                        "items": {"type": "array", "items": schema}, "total": {"type": "integer"}}}
                content = {"application/json": {"schema": schema}}
                content.update(doc.get("extra_content") or {})
                response["content"] = content
            op["responses"][status] = response
            for code, desc in ERROR_STATUSES.items():
                op["responses"].setdefault(code, {
                    "description": desc,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
            operations[method.lower()] = op
        if operations:
            spec.path(path=path, operations=operations)
    return spec.to_dict()
