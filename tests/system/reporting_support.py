"""What the reporting system tests share: rounds of their own, learners through
the real enrollment service, waiting for the read model, and parsing exports."""
import csv
import io
import time

import openpyxl

from tests.client import CHECKS_OFF, academic_years
from tests.system.confirmation_support import learner_body

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rounds_of_a_year(admin, numbers=(2,), previous_year=False, **over):
    """Open rounds of an academic year no other test uses (and of the year
    before it, with ``previous_year``)."""
    before, year = academic_years(2)
    made = {}
    body = {}
    for number in numbers:
        body = {"academic_year": year, "number": number, "census_date": "2026-11-01",
                "opens_at": "2026-10-01", "closes_at": "2099-11-30", "settings": CHECKS_OFF, **over}
        made[number] = admin.ok("POST", "/rounds", 201, json=body)
    if previous_year:
        made["previous_year"] = admin.ok("POST", "/rounds", 201,
                                         json={**body, "academic_year": before, "number": 2})
    return made


def add_learner(client, rid, iid, grade, **over):
    body = {**learner_body(grade), **over}
    r = client.post(f"/rounds/{rid}/institutions/{iid}/learners", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def remove_learner(client, learner_id, reason="moved_out"):
    r = client.delete(f"/learners/{learner_id}", params={"reason": reason})
    assert r.status_code == 204, r.text


def report(client, rid, name, unit_id=None, status=200, **params):
    if unit_id is not None:
        params["org_unit_id"] = unit_id
    r = client.get(f"/rounds/{rid}/reports/{name}", params=params)
    assert r.status_code == status, f"{name}: {r.status_code} {r.text}"
    return r.json()


def wait_for(check, timeout=10.0, interval=0.05, what="the read model"):
    """Poll until ``check()`` is true; returns (value, seconds waited)."""
    started = time.monotonic()
    last = None
    while time.monotonic() - started < timeout:
        last = check()
        if last:
            return last, time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"{what} did not catch up within {timeout}s (last: {last!r})")


def export(client, path, media_type, **params):
    r = client.get(path, params=params, headers={"Accept": media_type})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(media_type), r.headers["Content-Type"]
    return r


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_book(response):
    return openpyxl.load_workbook(io.BytesIO(response.content))


def sheet_rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def row_starting(rows, *cells):
    """The first row whose first cells are ``cells``."""
    n = len(cells)
    for row in rows:
        if tuple(row[:n]) == cells:
            return row
    raise AssertionError(f"no row starting {cells!r} in {rows!r}")


def reporting_queues():
    """The broker queues of the reporting service's event handlers (nameko's names)."""
    from services.reporting.service import ReportingService
    names = []
    for attr in dir(ReportingService):
        for ep in getattr(getattr(ReportingService, attr), "nameko_entrypoints", ()):
            if type(ep).__name__ == "EventHandler":
                names.append(f"evt-{ep.source_service}-{ep.event_type}--reporting.{attr}")
    return names


def wait_until_reporting_is_idle(amqp_uri, timeout=240):
    """Other tests may have left thousands of events (bulk imports) for the
    reporting service: wait until its queues are empty before timing anything."""
    from kombu import Connection
    deadline = time.monotonic() + timeout
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while True:
            waiting, found = 0, 0
            for name in reporting_queues():
                try:
                    waiting += channel.queue_declare(name, passive=True).message_count
                    found += 1
                except Exception:       # not declared yet: nothing waits in it
                    channel = conn.channel()
            assert found, "none of the reporting service's queues exists: their names changed?"
            if waiting == 0:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the reporting service still has {waiting} events waiting")
            time.sleep(0.5)
