"""Institution profiles and the self-established CDC survey: rejecting and
resubmitting a surveyed unit, its establishment documents, and the printable
survey form (``PATCH /org-units/{id}`` is on the unit's own resource in
``gateway.resources.platform``)."""
import base64
from urllib.parse import quote

import falcon
from marshmallow import fields

from gateway.access import UnitInPath
from gateway.context import json_body
from gateway.resources.reporting import EXPORTS, negotiate
from services.common.errors import LecError
from services.registry.profile_schemas import CONTENT_TYPES, Document, Profile, Survey, UnitRejection, max_bytes
from services.registry.schemas import OrgUnit as UnitSchema
from gateway import render
from services.reporting.schemas import Table

BINARY = {"schema": {"type": "string", "format": "binary"}}
FILES = {media: BINARY for media in CONTENT_TYPES}


class OrgUnitDetail(UnitSchema):
    """A unit with its profile, its survey (CDCs an LAO set up itself) and when it was
    rejected."""
    profile = fields.Nested(Profile)
    survey = fields.Nested(Survey, allow_none=True)
    rejected_at = fields.AwareDateTime(allow_none=True)


class OrgUnitReject:
    policies = {"POST": UnitInPath("id", roles=("province", "department"), strict=True)}
    docs = {"POST": {"summary": "Reject a pending institution (a surveyed CDC) with a reason: it goes "
                                "back to its LAO, which corrects and resubmits it (a province or "
                                "department user above it)", "tag": "org-units",
                     "request": UnitRejection, "response": OrgUnitDetail}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "reject_unit", id, json_body(req))
        self.ctx.units.invalidate(id)


class OrgUnitResubmit:
    policies = {"POST": UnitInPath("id", strict=True)}
    docs = {"POST": {"summary": "Resubmit a rejected institution, corrected, to the province (its "
                                "LAO): pending again", "tag": "org-units", "response": OrgUnitDetail}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "resubmit_unit", id)
        self.ctx.units.invalidate(id)


def _filename_header(disposition, name):
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class OrgUnitDocuments:
    """The establishment documents of a school or CDC: PDF, JPEG or PNG, sent as the raw
    request body with its media type; ``filename`` and ``kind`` in the query (or the
    ``X-Filename`` header)."""
    policies = {"GET": UnitInPath("id"), "POST": UnitInPath("id")}
    docs = {"POST": {"summary": "Add an establishment document (PDF, JPEG or PNG as the raw body, at "
                                "most LEC_DOCUMENT_MAX_BYTES, 5 MB by default): a user of the unit or "
                                "above it; invalid_document when the bytes are not of the type sent",
                     "tag": "org-units", "request_content": FILES, "response": Document,
                     "status": 201,
                     "query": {"filename": ("string", "the file's name (or the X-Filename header)"),
                               "kind": ("string", "establishment_order (default) or other")}},
            "GET": {"summary": "The documents of a unit (without their bytes)", "tag": "org-units",
                    "response": Document, "list": True, "paged": False}}

    def __init__(self, ctx):
        self.ctx = ctx
        # the gateway's body limit for this resource: the documents' own, and a little
        self.max_body = max_bytes() + 1

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "registry", "list_documents", id)

    def on_post(self, req, resp, id):
        content_type = (req.content_type or "").split(";")[0].strip().lower()
        if content_type not in CONTENT_TYPES:
            raise LecError("unsupported_media_type", "send a PDF (application/pdf), a JPEG (image/jpeg) "
                                                     "or a PNG (image/png) as the request body")
        limit = max_bytes()
        stream = req.stream if req.content_length is None else req.bounded_stream
        content = stream.read(limit + 1)
        if len(content) > limit:
            raise LecError("payload_too_large", f"a document is at most {limit:,} bytes")
        meta = {"content_type": content_type, "kind": req.get_param("kind") or "establishment_order",
                "filename": req.get_param("filename") or req.get_header("X-Filename") or ""}
        resp.media = self.ctx.call(req, "registry", "add_document", id, meta,
                                   base64.b64encode(content).decode("ascii"))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/org-units/{id}/documents/{resp.media['id']}"


class OrgUnitDocument:
    policies = {"GET": UnitInPath("id"), "DELETE": UnitInPath("id")}
    docs = {"GET": {"summary": "One document of a unit: the file (Content-Disposition: attachment)",
                    "tag": "org-units", "content": FILES},
            "DELETE": {"summary": "Delete a document of a unit while it is pending or rejected",
                       "tag": "org-units", "status": 204}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, doc_id):
        found = self.ctx.call(req, "registry", "get_document", id, doc_id)
        meta = found["meta"]
        resp.data = base64.b64decode(found["content"])
        resp.content_type = meta["content_type"]
        resp.set_header("Content-Disposition", _filename_header("attachment", meta["filename"]))
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Cache-Control", "private, no-store")

    def on_delete(self, req, resp, id, doc_id):
        self.ctx.call(req, "registry", "delete_document", id, doc_id)
        resp.status = falcon.HTTP_204


class OrgUnitSurveyForm:
    """The self-established CDC survey form of one CDC, or of every surveyed CDC beneath an
    LAO, a province or the department: JSON, CSV, XLSX or a printable page (Thai, BE dates,
    signature block)."""
    policies = {"GET": UnitInPath("id")}
    docs = {"GET": {"summary": "The CDC survey form (enclosure 1 of the CCIS letter) of a CDC or of "
                               "the surveyed CDCs beneath an LAO, a province or the department",
                    "tag": "org-units", "response": Table, "files": EXPORTS,
                    "query": {"format": ("string", "json, csv, xlsx or html: instead of the Accept "
                                                   "header (download links)")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        media_type = negotiate(req)
        table = self.ctx.call(req, "registry", "survey_form", id)
        unit = table.pop("unit", None) or {"code": str(id)}
        if media_type is None:
            resp.media = table
            return
        body, content_type = render.render(table, media_type)
        resp.data = body
        resp.content_type = content_type
        name = f"lec-cdc-survey-{unit['code']}.{render.EXTENSIONS[media_type]}"
        disposition = "inline" if media_type == render.HTML else "attachment"
        resp.set_header("Content-Disposition", _filename_header(disposition, name))


ROUTES = [
    ("/org-units/{id:int}/reject", OrgUnitReject),
    ("/org-units/{id:int}/resubmit", OrgUnitResubmit),
    ("/org-units/{id:int}/documents", OrgUnitDocuments),
    ("/org-units/{id:int}/documents/{doc_id:int}", OrgUnitDocument),
    ("/org-units/{id:int}/survey-form", OrgUnitSurveyForm),
]
