"""The operators' command for failed events: list, show, retry now, and discard
with a reason (kept in the audit log, never silently)."""
import uuid

import pytest
from sqlalchemy import select

from services.common import failed_events as cli
from services.common.db import COMMON
from services.common.inbox import record_failure


def fail_once_more(db, event):
    record_failure(db, "on_probe_event", event, RuntimeError("the probe cannot be applied"))


def test_list_show_retry_and_discard(db_for, capsys):
    db = db_for("registry")  # a service without a retry timer: nothing else touches the row
    event = {"event_id": str(uuid.uuid4()), "type": "probe_event", "version": 1, "n": 1}
    fail_once_more(db, event)
    fail_once_more(db, event)  # a second attempt pushes the next one into the future
    row = next(r for r in cli.list_failed("registry") if r["event_id"] == event["event_id"])
    assert row["attempts"] == 2 and "cannot be applied" in row["error"]

    assert cli.main(["list", "--service", "registry"]) == 0
    out = capsys.readouterr().out
    assert f"{row['id']:>6} on_probe_event" in out and "attempts   2" in out

    assert cli.main(["show", "--service", "registry", str(row["id"])]) == 0
    assert event["event_id"] in capsys.readouterr().out

    with db.session() as s:
        due_before = s.execute(select(COMMON.failed_events.c.next_attempt_at > COMMON.failed_events.c.first_failed_at)
                               .where(COMMON.failed_events.c.id == row["id"])).scalar_one()
    assert due_before  # postponed by the backoff
    assert cli.main(["retry", "--service", "registry", str(row["id"])]) == 0
    assert "1 failed event(s) due" in capsys.readouterr().out
    again = next(r for r in cli.list_failed("registry") if r["id"] == row["id"])
    assert again["next_attempt_at"] < row["next_attempt_at"]

    with pytest.raises(SystemExit):  # a reason is required
        cli.main(["discard", "--service", "registry", str(row["id"])])
    assert cli.main(["discard", "--service", "registry", str(row["id"]), "--reason",
                     "a probe, never meant to apply", "--operator", "ops.somchai"]) == 0
    assert "kept in registry's audit log" in capsys.readouterr().out
    assert all(r["id"] != row["id"] for r in cli.list_failed("registry"))
    with db.session() as s:
        audit = s.execute(select(COMMON.audit_log).where(
            COMMON.audit_log.c.action == "discard_failed_event",
            COMMON.audit_log.c.entity_id == event["event_id"])).one()
    assert audit.actor_username == "ops.somchai"
    assert audit.details["reason"] == "a probe, never meant to apply"
    assert audit.details["payload"] == event and audit.details["attempts"] == 2
    # gone is gone: a second discard finds nothing
    assert cli.main(["discard", "--service", "registry", str(row["id"]), "--reason", "again"]) == 1
