"""Learners, bulk import and export, carry-over, other-school headcounts."""
import collections
import json
import shutil
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import falcon

from gateway.access import Authenticated, Resolved, UnitInPath, UnitInQuery
from gateway.context import json_body, paging
from services.common import settings
from services.common.copytext import CopyText
from services.common.errors import LecError, validation_error
from services.common.validation import UNSAFE_TEXT, unsafe
from gateway import fileformat
from services.enrollment.schemas import (
    CarryOverResult, ChecksReport, ExplanationsResult, ExplanationsSet, Headcount, HeadcountSet,
    ImportResult, Learner, LearnerCreate, LearnerSummary, LearnerUpdate, Removal, SchoolHeadcount,
)

INSTITUTION = ("institution",)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOAD_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel", XLSX_TYPE,
                "application/octet-stream", "")
LEARNER_QUERY = {"q": ("string", "part of a name, or the start of a national ID / G-Code"),
                 "grade": ("string", "k1-k3, p1-p6, m1-m6 or cdc"),
                 "status": ("string", "active (default), removed or all"),
                 "sort": ("string", "grade (default: grade, then name), name or added (oldest "
                                    "first); a leading '-' reverses it")}



def removal_body(req):
    """A removal's ``{reason, note}`` from the body or, failing that, the query."""
    body = json_body(req) if req.content_length else {}
    for key in ("reason", "note"):
        if req.get_param(key) is not None:
            body.setdefault(key, req.get_param(key))
    return body

class RecordPaths:
    """A record's id (a learner's, a staff record's) -> the path of its institution, which
    never changes: asked of enrollment (``method``) once, kept by the gateway process, and
    learnt from every record the process sees recorded, so that the correction that often
    follows a new record needs no call. One per kind and process (:meth:`of`)."""

    def __init__(self, ctx, method, size=100_000):
        self.ctx = ctx
        self.method = method
        self.size = size
        self._cache = collections.OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, ctx, method):
        with _PATHS_LOCK:
            if method not in ctx.record_paths:
                ctx.record_paths[method] = cls(ctx, method)
            return ctx.record_paths[method]

    def __call__(self, req, params, ctx):
        record_id = params.get("id")
        with self._lock:
            path = self._cache.get(record_id)
        if path is None:
            path = self.ctx.call(req, "enrollment", self.method, record_id)
            if path is not None:
                self.remember(record_id, path)
        return path

    def remember(self, record_id, path):
        with self._lock:
            self._cache[record_id] = path
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)


_PATHS_LOCK = threading.Lock()


def learner_paths(ctx):
    return RecordPaths.of(ctx, "learner_path")


class Learners:
    """The learners of an institution in a round."""
    policies = {"GET": UnitInPath("iid"), "POST": UnitInPath("iid", roles=INSTITUTION)}
    docs = {
        "GET": {"summary": "List an institution's learners (search by name or ID)", "tag": "learners",
                "response": Learner, "list": True, "query": LEARNER_QUERY},
        "POST": {"summary": "Record a learner (the institution's own users)", "tag": "learners",
                 "request": LearnerCreate, "response": Learner, "status": 201},
    }

    def __init__(self, ctx):
        self.ctx = ctx
        self.paths = learner_paths(ctx)

    def on_get(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "list_learners", id, iid, q=req.get_param("q"),
                                   grade=req.get_param("grade"), status=req.get_param("status"),
                                   sort=req.get_param("sort"), **paging(req))

    def on_post(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "add_learner", id, iid, json_body(req))
        self.paths.remember(resp.media["id"], req.context.unit.path)
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/learners/{resp.media['id']}"


class RoundLearners:
    """Search the learners of every institution under a unit (the caller's own by default)."""
    policies = {"GET": UnitInQuery("org_unit_id")}
    docs = {"GET": {"summary": "Search learners across the caller's subtree", "tag": "learners",
                    "response": Learner, "list": True,
                    "query": dict(LEARNER_QUERY, org_unit_id=("integer", "a unit in your subtree"))}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "list_learners", id, req.context.unit.id,
                                   q=req.get_param("q"), grade=req.get_param("grade"),
                                   status=req.get_param("status"), sort=req.get_param("sort"),
                                   **paging(req))


class LearnerItem:
    """One learner (removed ones stay readable for audit)."""

    def __init__(self, ctx):
        self.ctx = ctx
        paths = learner_paths(ctx)
        self.policies = {"GET": Resolved(paths, what="learner"),
                         "PATCH": Resolved(paths, roles=INSTITUTION, what="learner"),
                         "DELETE": Resolved(paths, roles=INSTITUTION, what="learner")}

    docs = {
        "GET": {"summary": "Read a learner", "tag": "learners", "response": Learner},
        "PATCH": {"summary": "Correct a learner", "tag": "learners", "request": LearnerUpdate,
                  "response": Learner},
        "DELETE": {"summary": "Remove a learner with a reason (body or ?reason=); the record is kept",
                   "tag": "learners", "status": 204, "request": Removal, "request_required": False,
                   "query": {"reason": ("string", "moved_out, not_found, graduated, duplicate, "
                                                  "deceased or other"),
                             "note": ("string", "optional")}},
    }

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "get_learner", id)

    def on_patch(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "update_learner", id, json_body(req))

    def on_delete(self, req, resp, id):
        self.ctx.call(req, "enrollment", "remove_learner", id, removal_body(req))
        resp.status = falcon.HTTP_204


class LearnerRestore:
    """Undo a removal: the learner is active again."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.policies = {"POST": Resolved(learner_paths(ctx), roles=INSTITUTION, what="learner")}

    docs = {"POST": {"summary": "Restore a removed learner (while the round is open and the data not "
                                "confirmed; refused as duplicate_learner when the person is active "
                                "elsewhere)", "tag": "learners", "response": Learner}}

    def on_post(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "restore_learner", id)


class ImportTemplate:
    """An empty import file with the Thai column titles the import reads."""
    policies = {"GET": Authenticated()}
    docs = {"GET": {
        "summary": "Download an empty learner import template (Thai column titles)", "tag": "learners",
        "query": {"format": ("string", "csv (default) or xlsx")},
        "response_description": "the file: a header row in the columns the import accepts",
        "content": {"text/csv": {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp):
        fmt = (req.get_param("format") or "").lower()
        if not fmt:
            fmt = "xlsx" if XLSX_TYPE in (req.accept or "") else "csv"
        if fmt not in ("csv", "xlsx"):
            raise LecError("validation_error", "unknown template format",
                           {"errors": {"format": ["csv or xlsx"]}})
        resp.downloadable_as = f"learners-template.{fmt}"
        if fmt == "csv":
            resp.content_type = "text/csv; charset=utf-8"
            resp.data = b"".join(fileformat.template_chunks())
            return
        spool = tempfile.TemporaryFile()
        fileformat.write_template_xlsx(spool)
        resp.content_length = spool.tell()
        spool.seek(0)
        resp.content_type = XLSX_TYPE
        resp.stream = spool


class LearnerSummaryResource:
    """Counts of an institution's learners and whether they are sealed."""
    policies = {"GET": UnitInPath("iid")}
    docs = {"GET": {"summary": "Counts of an institution's learners and its seal", "tag": "learners",
                    "response": LearnerSummary}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "summary", id, iid)


class CarryOver:
    """Copy the institution's round-1 learners into round 2 of the same academic year."""
    policies = {"POST": UnitInPath("iid", roles=INSTITUTION)}
    docs = {"POST": {"summary": "Carry round-1 learners over into round 2 (one action), or preview it",
                     "tag": "learners", "response": CarryOverResult,
                     "query": {"dry_run": ("boolean", "true: answer what would be copied and "
                                                      "skipped, writing nothing")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_post(self, req, resp, id, iid):
        dry_run = req.get_param_as_bool("dry_run", default=False)
        resp.media = self.ctx.call(req, "enrollment", "carry_over", id, iid, dry_run=dry_run,
                                   timeout=_long(self.ctx))


_pool = None
_pool_lock = threading.Lock()


def _senders():
    """Threads that carry import batches to the service, shared by the requests of
    this process (each keeps its own RPC proxy, as every gateway thread does)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.current().import_senders,
                                       thread_name_prefix="import-sender")
        return _pool


def _long(ctx):
    return max(ctx.config.rpc_timeout, settings.current().import_rpc_timeout)


class LearnerImport:
    """Bulk import of a CSV or XLSX file, streamed and sent on in batches."""
    policies = {"POST": UnitInPath("iid", roles=INSTITUTION)}
    docs = {"POST": {
        "summary": "Import learners from CSV (UTF-8, BOM optional) or XLSX; English or Thai headers",
        "tag": "learners", "response": ImportResult,
        "request_content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}}}}},
    }}

    def __init__(self, ctx):
        self.ctx = ctx
        self.max_body = ctx.config.max_upload
        configured = settings.current()
        self.batch = configured.import_batch
        # a batch is one RPC message: well under the broker's message size limit
        # (RabbitMQ's default is 16 MiB), whatever its rows hold
        self.batch_bytes = configured.import_batch_bytes
        self.max_reported = configured.import_max_reported
        self.parallel = max(1, configured.import_parallel)
        self.limits = fileformat.Limits.from_env()

    # what a file holds: the enrollment RPCs that check and store it, its columns, its reader
    CHECK_RPC, ROWS_RPC = "import_check", "import_rows"
    COLUMNS = fileformat.COLUMNS
    STAGED = True  # the service copies a batch's lines into its staging table
    records = staticmethod(fileformat.records)

    def on_post(self, req, resp, id, iid):
        self.ctx.call(req, "enrollment", self.CHECK_RPC, id, iid)
        stream = self._upload(req)
        head, kind = fileformat.sniff(stream)
        if kind == "xlsx":
            with tempfile.NamedTemporaryFile(suffix=".xlsx") as spool:
                spool.write(head)
                shutil.copyfileobj(stream, spool, 1 << 20)
                spool.flush()
                resp.media = self._send(req, id, iid, fileformat.read_xlsx(spool.name, self.limits))
        else:
            resp.media = self._send(req, id, iid, fileformat.read_csv(head, stream, self.limits))

    def _upload(self, req):
        content_type = (req.content_type or "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data":
            for part in req.get_media():
                if part.name and unsafe(part.name):
                    raise validation_error({"_form": [f"a part's name {UNSAFE_TEXT}"]})
                if part.name == "file":
                    return part.stream
            raise LecError("validation_error", "the form has no 'file' part",
                           {"errors": {"file": ["required"]}})
        if content_type not in UPLOAD_TYPES:
            raise LecError("unsupported_media_type",
                           f"send the file as text/csv or {XLSX_TYPE} (or a form with a 'file' part)")
        # the server's input stream ends with the body, chunked or not (falcon's
        # bounded_stream would read nothing of a chunked body)
        return req.stream

    def _batches(self, records):
        """``(rows, lines, refused)``: at most ``LEC_IMPORT_BATCH`` rows and
        ``LEC_IMPORT_BATCH_BYTES`` of JSON to a batch, most of them as COPY text
        (``lines``, when the service stages the file: services.common.copytext), the
        others as values, and beside them the rows the reader refused (undecodable)
        since the previous batch."""
        lines = CopyText(len(self.COLUMNS)) if self.STAGED else None
        batch, text, size, refused = [], [], 0, []
        for number, values in records:
            if isinstance(values, fileformat.BadRow):
                refused.append(values.entry(number))
                if len(refused) >= self.batch:
                    yield batch, text, refused
                    batch, text, size, refused = [], [], 0, []
                continue
            line = lines.line(number, values) if lines is not None else None
            row = [number, *values] if line is None else None
            cost = len(json.dumps(line if row is None else row)) + 2
            if cost > self.batch_bytes:
                raise LecError("payload_too_large", f"row {number} is larger than {self.batch_bytes:,} bytes")
            if (batch or text) and (len(batch) + len(text) >= self.batch or size + cost > self.batch_bytes):
                yield batch, text, refused
                batch, text, size, refused = [], [], 0, []
            if row is None:
                text.append(line)
            else:
                batch.append(row)
            size += cost
        if batch or text or refused:
            yield batch, text, refused

    def _send(self, req, round_id, iid, rows):
        """Parse the next batch while the service stores the previous ones
        (``LEC_IMPORT_PARALLEL`` batches in flight; each is one transaction)."""
        totals = {"accepted": 0, "unchanged": 0, "rejected": [], "rejected_total": 0, "rows": 0}
        import_id = str(uuid.uuid4())  # one for all the batches of this file
        in_flight = collections.deque()
        failure = None
        try:
            for batch, text, refused in self._batches(self.records(rows)):
                if not (batch or text):
                    in_flight.append((None, refused))
                    continue
                staged = {"data": "".join(text)} if self.STAGED else {}
                in_flight.append((_senders().submit(
                    self.ctx.call, req, "enrollment", self.ROWS_RPC, round_id, iid,
                    list(self.COLUMNS), batch, import_id=import_id, timeout=_long(self.ctx), **staged),
                    refused))
                while len(in_flight) >= self.parallel:
                    self._add(totals, *in_flight.popleft())
        except LecError as exc:
            failure = exc
        # whatever happened, account for the batches already sent
        while in_flight:
            try:
                self._add(totals, *in_flight.popleft())
            except LecError as exc:
                failure = failure or exc
        if failure is not None:
            if not totals["rows"]:
                raise failure
            raise LecError(failure.code, f"{failure.description} (the rows before it were imported; "
                                         "importing the file again adds only what is missing)",
                           dict(failure.extra, **totals))
        return totals

    def _add(self, totals, sent, refused):
        """Count a batch's result (``sent``: its RPC, None for no rows) with the rows
        the reader refused beside it, in row order."""
        result = sent.result() if sent is not None else {"accepted": 0, "unchanged": 0, "rejected": [],
                                                         "rows": 0}
        rejected = sorted(result["rejected"] + refused, key=lambda r: r["row"])
        totals["accepted"] += result["accepted"]
        totals["unchanged"] += result["unchanged"]
        totals["rows"] += result["rows"] + len(refused)
        totals["rejected_total"] += len(rejected)
        room = self.max_reported - len(totals["rejected"])
        totals["rejected"].extend(rejected[:max(0, room)])


class LearnerExport:
    """An institution's learners as CSV or XLSX (?format= or the Accept header)."""
    policies = {"GET": UnitInPath("iid")}
    docs = {"GET": {
        "summary": "Export an institution's active learners as CSV or XLSX", "tag": "learners",
        "query": {"format": ("string", "csv (default) or xlsx; or send an Accept header"),
                  "headers": ("string", "th for Thai column titles (the import reads both)")},
        "response_description": "the file, in the columns the import accepts",
        "content": {"text/csv": {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }}
    page = 5000

    def __init__(self, ctx):
        self.ctx = ctx

    def _pages(self, req, round_id, iid):
        first = self.ctx.call(req, "enrollment", "export_page", round_id, iid, 0, self.page)

        def pages():
            page = first
            while page:
                yield page
                if len(page) < self.page:
                    break
                page = self.ctx.call(req, "enrollment", "export_page", round_id, iid,
                                     page[-1]["id"], self.page)
        return pages()

    def on_get(self, req, resp, id, iid):
        fmt = (req.get_param("format") or "").lower()
        if not fmt:
            fmt = "xlsx" if XLSX_TYPE in (req.accept or "") else "csv"
        if fmt not in ("csv", "xlsx"):
            raise LecError("validation_error", "unknown export format",
                           {"errors": {"format": ["csv or xlsx"]}})
        thai = req.get_param("headers") == "th"
        pages = self._pages(req, id, iid)
        name = f"learners-r{id}-u{iid}.{fmt}"
        resp.downloadable_as = name
        if fmt == "csv":
            resp.content_type = "text/csv; charset=utf-8"
            resp.stream = fileformat.csv_chunks(pages, thai)
            return
        spool = tempfile.TemporaryFile()
        fileformat.write_xlsx(pages, spool, thai=thai)
        resp.content_length = spool.tell()
        spool.seek(0)
        resp.content_type = XLSX_TYPE
        resp.stream = spool


class HeadcountResource:
    """The headcount of a school of another affiliation, entered by its funding LAO."""
    policies = {"GET": UnitInPath("iid"), "PUT": UnitInPath("iid", roles=("lao",))}
    docs = {
        "GET": {"summary": "Read an other-affiliation school's headcount", "tag": "headcounts",
                "response": Headcount},
        "PUT": {"summary": "Set an other-affiliation school's headcount by grade (its LAO)",
                "tag": "headcounts", "request": HeadcountSet, "response": Headcount},
    }

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "get_headcount", id, iid)

    def on_put(self, req, resp, id, iid):
        resp.media = self.ctx.call(req, "enrollment", "set_headcount", id, iid, json_body(req))


class LaoHeadcounts:
    """Every other-affiliation school of an LAO with its headcount."""
    policies = {"GET": UnitInPath("lid")}
    docs = {"GET": {"summary": "The other-affiliation schools of an LAO and their headcounts",
                    "tag": "headcounts", "response": SchoolHeadcount, "list": True, "paged": False}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, lid):
        resp.media = self.ctx.call(req, "enrollment", "list_headcounts", id, lid)


class Checks:
    """The checks before confirming: a unit's findings and, below it, a tally per child."""
    policies = {"GET": UnitInQuery("org_unit_id")}
    docs = {"GET": {"summary": "The checks of a unit before it confirms: errors (to correct) and queries "
                               "(to correct or explain), and for an LAO or above a tally per child",
                    "tag": "checks", "response": ChecksReport,
                    "query": {"org_unit_id": ("integer", "the unit (default: your own); within your subtree")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        resp.media = self.ctx.call(req, "enrollment", "checks", id, req.context.unit.id)


class Explanations:
    """A unit's own users explain its queries while its data are open."""
    policies = {"PUT": UnitInPath("unit_id")}
    docs = {"PUT": {"summary": "Explain the unit's queries (an empty text withdraws an explanation); "
                               "by the unit's own users while it is not confirmed",
                    "tag": "checks", "request": ExplanationsSet, "response": ExplanationsResult}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_put(self, req, resp, id, unit_id):
        resp.media = self.ctx.call(req, "enrollment", "explain", id, unit_id, json_body(req))


ROUTES = [
    ("/rounds/{id:int}/learners", RoundLearners),
    ("/rounds/{id:int}/institutions/{iid:int}/learners", Learners),
    ("/rounds/{id:int}/institutions/{iid:int}/learners/import", LearnerImport),
    ("/rounds/{id:int}/institutions/{iid:int}/learners/export", LearnerExport),
    ("/rounds/{id:int}/institutions/{iid:int}/learners/carry-over", CarryOver),
    ("/rounds/{id:int}/institutions/{iid:int}/learners/summary", LearnerSummaryResource),
    ("/rounds/{id:int}/institutions/{iid:int}/headcount", HeadcountResource),
    ("/rounds/{id:int}/laos/{lid:int}/headcounts", LaoHeadcounts),
    ("/rounds/{id:int}/checks", Checks),
    ("/rounds/{id:int}/checks/{unit_id:int}/explanations", Explanations),
    ("/learners/import-template", ImportTemplate),
    ("/learners/{id:int}", LearnerItem),
    ("/learners/{id:int}/restore", LearnerRestore),
]
