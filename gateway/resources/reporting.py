"""Reports: summary, progress, budget, round-over-round comparison and the
province report forms; each as JSON, CSV, XLSX or a printable HTML page.

The format follows the ``Accept`` header (``text/csv``, the XLSX media type,
``text/html``; JSON otherwise) or ``?format=csv|xlsx|html|json`` for plain
download links. Every report is about ``?org_unit_id=`` (default: the caller's
own unit), which must be in the caller's subtree; the reporting service
checks it again.
"""
import logging

import falcon

from gateway.access import Authenticated, UnitInQuery
from services.common.errors import LecError, validation_error
from gateway import render
from services.reporting.schemas import Blockers, Budget, Comparison, FormRef, Progress, Summary, Table

JSON = falcon.MEDIA_JSON
OFFERED = [JSON, render.CSV, render.XLSX, render.HTML]
EXPORTS = {
    render.CSV: {"schema": {"type": "string"}},
    render.XLSX: {"schema": {"type": "string", "format": "binary"}},
    render.HTML: {"schema": {"type": "string"}},
}
log = logging.getLogger(__name__)
UNIT_QUERY = {
    "org_unit_id": ("integer", "the unit reported on (default: your own); within your subtree"),
    "format": ("string", "json, csv, xlsx or html: instead of the Accept header (download links)"),
}


def negotiate(req):
    """The media type asked for: None for JSON."""
    fmt = req.get_param("format")
    if fmt not in (None, ""):
        if fmt == "json":
            return None
        if fmt not in render.FORMATS:
            raise validation_error({"format": ["one of json, csv, xlsx, html"]})
        return render.FORMATS[fmt]
    if not req.get_header("Accept"):
        return None
    preferred = req.client_prefers(OFFERED)
    if preferred is None:
        raise LecError("not_acceptable", "reports are offered as JSON, CSV, XLSX or HTML")
    return None if preferred == JSON else preferred


def send_table(resp, table, media_type, round_id, unit):
    body, content_type = render.render(table, media_type)
    resp.data = body
    resp.content_type = content_type
    name = f"lec-{table['key']}-round{round_id}-{unit.code}.{render.EXTENSIONS[media_type]}"
    disposition = "inline" if media_type == render.HTML else "attachment"
    resp.set_header("Content-Disposition", f'{disposition}; filename="{name}"')


class Report:
    """A report on one round and one unit."""
    name = None
    policies = {"GET": UnitInQuery("org_unit_id")}

    def __init__(self, ctx):
        self.ctx = ctx

    def options(self, req):
        return {}

    def on_get(self, req, resp, id):
        unit = req.context.unit
        media_type = negotiate(req)
        if media_type is None:
            resp.media = self.ctx.call(req, "reporting", self.name, id, unit.id, **self.options(req))
            return
        table = self.ctx.call(req, "reporting", "table", self.name, id, unit.id, self.options(req))
        send_table(resp, table, media_type, id, unit)


def _docs(summary, schema, query=None):
    return {"GET": {"summary": summary, "response": schema, "tag": "reports",
                    "query": {**UNIT_QUERY, **(query or {})}, "files": EXPORTS}}


class SummaryReport(Report):
    name = "summary"
    docs = _docs("Learners by grade, sex, ID kind and level, CDC children by age, other-school "
                 "headcounts and confirmation progress of a unit's subtree (live)", Summary)


class ProgressReport(Report):
    name = "progress"
    docs = _docs("One row per child unit: confirmation state, when and by whom, live and "
                 "confirmed counts, schools and CDCs confirmed beneath, and (JSON only) `checks`: "
                 "the errors and queries of the checks before confirming in its subtree, how many "
                 "queries are explained", Progress)

    def on_get(self, req, resp, id):
        if negotiate(req) is not None:
            super().on_get(req, resp, id)
            return
        unit = req.context.unit
        report = self.ctx.call(req, "reporting", "progress", id, unit.id)
        ids = [item["unit"]["id"] for item in report.get("items") or []]
        try:
            tallies = self.ctx.call(req, "enrollment", "check_tallies", id, ids + [unit.id])
        except Exception as exc:  # the report stands without its checks column
            log.warning("progress report of unit %s without checks: %s", unit.id,
                        getattr(exc, "description", None) or exc)
            tallies = None
        if tallies is not None:
            for item in report.get("items") or []:
                item["checks"] = _check_tally(tallies.get(str(item["unit"]["id"])))
            report["checks"] = _check_tally(tallies.get(str(unit.id)))
        resp.media = report


def _check_tally(found):
    found = found or {}
    return {k: int(found.get(k) or 0) for k in ("errors", "queries", "explained", "unexplained")}


class BudgetReport(Report):
    name = "budget"
    docs = _docs("Lunch and milk amounts from confirmed counts only and the round's settings "
                 "(lunch tiered by each school's size); unconfirmed units listed apart", Budget,
                 {"limit": ("integer", "unconfirmed units shown (default 1000, max 1000)"),
                  "offset": ("integer", "of the unconfirmed units"),
                  "preview": ("boolean", "`true`: add `preview`, the amounts on the live (unconfirmed) counts "
                                         "of every school, CDC and other school not closed, the change "
                                         "against what each last confirmed, and lines for an LAO or an "
                                         "institution (JSON only)")})

    def on_get(self, req, resp, id):
        preview = req.get_param("preview")
        if preview not in (None, "", "true", "false"):
            raise validation_error({"preview": ["true or false"]})
        if negotiate(req) is None:
            unit = req.context.unit
            resp.media = self.ctx.call(req, "reporting", "budget", id, unit.id,
                                       limit=req.get_param("limit"), offset=req.get_param("offset"),
                                       **({"preview": True} if preview == "true" else {}))
            return
        super().on_get(req, resp, id)


class ComparisonReport(Report):
    name = "comparison"
    docs = _docs("Changes per unit against another round (largest moves first; the largest drops "
                 "and rises apart)", Comparison,
                 {"against": ("string", "a round id, `previous` (default: round 1 before round 2, "
                                        "else round 2 of the year before) or `previous_year`"),
                  "level": ("string", "`children` (default) or `institutions` (every school, CDC and "
                                      "other school beneath)")})

    def options(self, req):
        return {"against": req.get_param("against"), "level": req.get_param("level")}


class Forms:
    """The province report forms (enclosures 2-5 of the department's letter)."""
    policies = {"GET": Authenticated()}
    docs = {"GET": {"summary": "The province report forms: key, enclosure number and Thai title",
                    "tag": "reports", "response": FormRef, "list": True, "paged": False}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        items = self.ctx.call(req, "reporting", "forms")
        resp.media = {"items": items, "total": len(items)}


class Form:
    """One province report form as a table with Thai headings (printable)."""
    policies = {"GET": UnitInQuery("org_unit_id")}
    docs = {"GET": {"summary": "A province report form by its enclosure number: 2 general information "
                               "on LAO schools, 3 the number of LAOs providing education, 4 other-"
                               "affiliation school data recorded, 5 CDC data; for a province (rows per "
                               "LAO), an LAO, or the department (rows per province)",
                    "response": Table, "tag": "reports",
                    "query": UNIT_QUERY, "files": EXPORTS}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id, enclosure):
        unit = req.context.unit
        media_type = negotiate(req)
        table = self.ctx.call(req, "reporting", "form", id, unit.id, enclosure)
        if media_type is None:
            resp.media = table
        else:
            send_table(resp, table, media_type, id, unit)


class RoundBlockers:
    """Who blocks me: the units under ``?org_unit_id=`` (default: the caller's own)
    whose confirmation it still waits for."""
    policies = {"GET": UnitInQuery("org_unit_id", roles=("department", "province", "lao"))}
    docs = {"GET": {
        "summary": "Who blocks me: every active province, LAO, school and CDC under the unit that has not "
                   "confirmed, soonest deadline first (its level's deadline with extensions, time left, "
                   "overdue), with its children confirmed (LAOs, provinces), its checks (schools, CDCs), its "
                   "open transfers and revocation requests and its accounts' names",
        "tag": "reports", "response": Blockers,
        "query": {"org_unit_id": ("integer", "the unit waiting (default: your own); within your subtree"),
                  "limit": ("integer", "units per page (default 50, max 1000)"),
                  "offset": ("integer", "units skipped")}}}

    def __init__(self, ctx):
        self.ctx = ctx

    def on_get(self, req, resp, id):
        unit = req.context.unit
        resp.media = self.ctx.call(req, "reporting", "blockers", id, unit.id,
                                   limit=req.get_param("limit"), offset=req.get_param("offset"))


ROUTES = [
    ("/rounds/{id:int}/blockers", RoundBlockers),
    ("/rounds/{id:int}/reports/summary", SummaryReport),
    ("/rounds/{id:int}/reports/progress", ProgressReport),
    ("/rounds/{id:int}/reports/budget", BudgetReport),
    ("/rounds/{id:int}/reports/comparison", ComparisonReport),
    ("/rounds/{id:int}/reports/forms", Forms),
    ("/rounds/{id:int}/reports/forms/{enclosure:int}", Form),
]
