"""Caregivers and teachers of an institution per round (services.enrollment.staff)."""
import codecs
import csv
import io

import falcon

from gateway.access import Authenticated, Resolved, UnitInPath
from gateway.context import json_body, paging
from gateway.resources.enrollment import LearnerImport, RecordPaths, removal_body
from gateway import staff_file as staff_rules
from services.enrollment.schemas import ImportResult
from services.enrollment.staff_schemas import Staff, StaffCreate, StaffRemoval, StaffSummary, StaffUpdate


def staff_paths(ctx):
    return RecordPaths.of(ctx, "staff_path")


class StaffList:
    """The caregivers and teachers of an institution in a round."""
    policies = {"GET": UnitInPath("iid"), "POST": UnitInPath("iid")}
    docs = {
        "GET": {"summary": "List an institution's caregivers and teachers", "tag": "staff",
                "response": Staff, "list": True,
                "query": {"q": ("string", "part of a name, or the start of a national ID"),
                          "position": ("string", "caregiver_teacher, caregiver or teacher"),
                          "status": ("string", "active (default), removed or all")}},
        "POST": {"summary": "Record a caregiver or teacher (the institution's users and the units "
                            "above it)", "tag": "staff", "request": StaffCreate, "response": Staff,
                 "status": 201},
    }

    def __init__(self, ctx):
        self.ctx = ctx
        self.paths = staff_paths(ctx)

    def on_get(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "list_staff", id, iid, q=req.get_param("q"),
                                   position=req.get_param("position"), status=req.get_param("status"),
                                   **paging(req))

    def on_post(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "add_staff", id, iid, json_body(req))
        self.paths.remember(resp.media["id"], req.context.unit.path)
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/staff/{resp.media['id']}"


class StaffSummaryResource:
    """Counts of an institution's staff by position, and its seal."""
    policies = {"GET": UnitInPath("iid")}
    docs = {"GET": {"summary": "Counts of an institution's caregivers and teachers by position",
                    "tag": "staff", "response": StaffSummary}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "staff_summary", id, iid)


class StaffItem:
    """One staff record (removed ones stay readable)."""

    def __init__(self, ctx):
        self.ctx = ctx
        paths = staff_paths(ctx)
        self.policies = {"GET": Resolved(paths, what="staff"), "PATCH": Resolved(paths, what="staff"),
                         "DELETE": Resolved(paths, what="staff")}

    docs = {
        "GET": {"summary": "Read a staff record", "tag": "staff", "response": Staff},
        "PATCH": {"summary": "Correct a staff record", "tag": "staff", "request": StaffUpdate,
                  "response": Staff},
        "DELETE": {"summary": "Remove a staff record with a reason (body or ?reason=); the record is kept",
                   "tag": "staff", "status": 204, "request": StaffRemoval, "request_required": False,
                   "query": {"reason": ("string", "left, retired, transferred, duplicate, deceased or other"),
                             "note": ("string", "optional")}},
    }

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "get_staff", id)

    def on_patch(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "update_staff", id, json_body(req))

    def on_delete(self, req, resp, id):
        self.ctx.call(req, "enrollment", "remove_staff", id, removal_body(req))
        resp.status = falcon.HTTP_204


class StaffImport(LearnerImport):
    """Bulk import of a staff file (CSV or XLSX), read as learner files are."""
    policies = {"POST": UnitInPath("iid")}
    docs = {"POST": {
        "summary": "Import caregivers and teachers from CSV (UTF-8, BOM optional) or XLSX; English or "
                   "Thai headers", "tag": "staff", "response": ImportResult,
        "request_content": LearnerImport.docs["POST"]["request_content"],
    }}

    CHECK_RPC, ROWS_RPC = "staff_import_check", "import_staff_rows"
    COLUMNS = staff_rules.IMPORT_COLUMNS
    STAGED = False  # a staff file's rows go as values
    records = staticmethod(staff_rules.records)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.parallel = 1  # one batch in flight: a person's post is decided in file order


class StaffTemplate:
    """An empty staff import file with the Thai column titles the import reads."""
    policies = {"GET": Authenticated()}
    docs = {"GET": {
        "summary": "Download an empty staff import template (Thai column titles)", "tag": "staff",
        "response_description": "a CSV file: a header row in the columns the import accepts",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        buffer = io.StringIO()
        csv.writer(buffer).writerow(staff_rules.template_row())
        resp.downloadable_as = "staff-template.csv"
        resp.content_type = "text/csv; charset=utf-8"
        resp.data = codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


ROUTES = [
    ("/rounds/{id:int}/institutions/{iid:int}/staff", StaffList),
    ("/rounds/{id:int}/institutions/{iid:int}/staff/import", StaffImport),
    ("/rounds/{id:int}/institutions/{iid:int}/staff/summary", StaffSummaryResource),
    ("/staff/import-template", StaffTemplate),
    ("/staff/{id:int}", StaffItem),
]
