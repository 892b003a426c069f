"""What the confirmation tests share: rounds, learners, headcounts, the AsyncAPI
payload check, and a second, isolated system for the disruptive tests."""
import datetime as dt
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import jsonschema
import yaml
from stdnum.th import pin

from tests.client import CHECKS_OFF, Client, academic_year

ROOT = Path(__file__).resolve().parents[2]
BKK = dt.timezone(dt.timedelta(hours=7))
# academic years apart from the other modules' (rounds 2600-, enrollment 2700-, the demo's current
# year): 2500-2560, taken in turn, skipping any already there
_rng = random.Random()


def now_bkk():
    return dt.datetime.now(BKK)


def new_round(admin, **over):
    """An open round (census date 1 Nov 2026) of a year no other test uses, its checks
    before confirming off unless ``settings`` say otherwise."""
    while True:
        year = academic_year()
        body = {"academic_year": year, "number": 2, "census_date": "2026-11-01",
                "opens_at": "2026-10-01", "closes_at": "2099-11-30", "settings": CHECKS_OFF}
        body.update(over)
        r = admin.post("/rounds", body)
        if r.status_code == 409 and "academic_year" not in over:
            continue
        assert r.status_code == 201, r.text
        return r.json()


def national_id():
    """A random valid 13-digit Thai personal ID."""
    digits = str(_rng.randint(1, 8)) + "".join(str(_rng.randint(0, 9)) for _ in range(11))
    return digits + pin.calc_check_digit(digits)


BIRTH = {"cdc": "2023-05-01", "k1": "2022-05-01", "k2": "2021-05-01", "k3": "2020-05-01",
         "p1": "2019-05-01", "p2": "2018-05-01", "p3": "2017-05-01", "m1": "2013-05-01"}


def learner_body(grade):
    return {"national_id": national_id(), "first_name": "ทดสอบ", "last_name": "ระบบ",
            "sex": _rng.choice("MF"), "birth_date": BIRTH.get(grade, "2016-05-01"), "grade": grade}


def post_learner(client, rid, iid, grade):
    return client.post(f"/rounds/{rid}/institutions/{iid}/learners", json=learner_body(grade))


def add_learner(client, rid, iid, grade):
    r = post_learner(client, rid, iid, grade)
    assert r.status_code == 201, r.text
    return r.json()


def add_learners(client, rid, iid, grades):
    return [add_learner(client, rid, iid, g) for g in grades]


def put_headcount(client, rid, school_id, counts):
    return client.put(f"/rounds/{rid}/institutions/{school_id}/headcount", json={"counts": counts})


def set_headcount(client, rid, school_id, counts):
    r = put_headcount(client, rid, school_id, counts)
    assert r.status_code == 200, r.text
    return r.json()


def by_grade(grades):
    out = {}
    for g in grades:
        out[g] = out.get(g, 0) + 1
    return dict(sorted(out.items()))


def conf_path(rid, unit_id):
    return f"/rounds/{rid}/confirmations/{unit_id}"


def confirm(client, rid, unit_id, status=200, **kwargs):
    r = client.post(conf_path(rid, unit_id), **kwargs)
    assert r.status_code == status, f"confirm {unit_id}: {r.status_code} {r.text}"
    return r.json()


def revoke(client, rid, unit_id, reason="ขอแก้ไขข้อมูลนักเรียน", status=200, **kwargs):
    r = client.delete(conf_path(rid, unit_id), json={"reason": reason}, **kwargs)
    assert r.status_code == status, f"revoke {unit_id}: {r.status_code} {r.text}"
    return r.json()


def refused(response, code, status=409):
    assert response.status_code == status and response.json()["code"] == code, \
        f"expected {status} {code}, got {response.status_code} {response.text}"
    return response.json()


# -- the AsyncAPI document --------------------------------------------------------

def asyncapi_document():
    return yaml.safe_load((ROOT / "deploy" / "asyncapi.yaml").read_text(encoding="utf-8"))


def payload_validator(event_type, document=None):
    """A JSON Schema validator of one event type's payload, from the document."""
    doc = document or asyncapi_document()
    message = next(m for m in doc["components"]["messages"].values() if m["name"] == event_type)
    ref = message["payload"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def assert_valid_event(event):
    errors = sorted(payload_validator(event["type"]).iter_errors(event), key=str)
    assert not errors, [e.message for e in errors]


# -- the broker --------------------------------------------------------------------

def rabbitmqctl(*args, check=True):
    ctl = shutil.which("rabbitmqctl")
    assert ctl, "rabbitmqctl is needed for this test"
    return subprocess.run([ctl, "-q", *args], check=check, capture_output=True, text=True, timeout=120)


def vhost_of(amqp_uri):
    return amqp_uri.rsplit("/", 1)[1] or "/"


# -- an isolated system ---------------------------------------------------------------

ISOLATED_ENV = {
    "LEC_CONFIRM_RECONCILE_INTERVAL": "1",
    "LEC_CONFIRM_VERIFY_INTERVAL": "5",
    "LEC_OUTBOX_POLL": "0.5",
}


def start_isolated_system(lec_env, suffix, log_name):
    """A second whole system with its own vhost and databases: for tests that
    kill services, break the broker or need a department of their own."""
    from deploy import infra
    from deploy.launcher import System
    from services.common import migrate, settings
    from tests.conftest import TEST_ID, _free_port

    test_id = f"{TEST_ID}_{suffix}"
    amqp = lec_env["AMQP_URI"]
    if not os.environ.get("LEC_TEST_AMQP_URI"):
        infra.ensure_vhost(f"lec_{test_id}")
        amqp = f"pyamqp://guest:guest@127.0.0.1:5672/lec_{test_id}"
    env = dict(lec_env, AMQP_URI=amqp, LEC_DB_PREFIX=f"lec_{test_id}_", **ISOLATED_ENV)
    base = env["LEC_PG_URL"].rstrip("/")
    for service in settings.SERVICES:
        url = settings.normalise_db_url(f"{base}/lec_{test_id}_{service}")
        migrate.drop_database(url)
        migrate.migrate(service, url)
    system = System(env=env, port=_free_port(), log_dir=ROOT / ".lec" / f"test-logs-{TEST_ID}" / log_name)
    for f in system.log_dir.glob("*.log"):
        f.unlink()
    system.start()
    try:
        system.wait_ready(timeout=120)
    except Exception:
        system.stop()
        raise
    system.amqp_uri = amqp
    system.db_urls = {s: settings.normalise_db_url(f"{base}/lec_{test_id}_{s}") for s in settings.SERVICES}
    return system


def wait_until(predicate, timeout=30, interval=0.3, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def login(url, username, password):
    return Client(url).login(username, password)
