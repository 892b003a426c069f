"""Rounds, learners and broker access for the enrollment system tests."""
import contextlib
import datetime as dt
import random
import time

from stdnum.th import pin

from tests.client import CHECKS_OFF, academic_year

BKK = dt.timezone(dt.timedelta(hours=7))

_rng = random.Random()

FIRST_NAMES = ("สมชาย", "สมศรี", "ณัฐพล", "กัญญาณัฐ", "ธีรภัทร", "พิมพ์ลดา", "อรอุมา", "ภูมิพัฒน์",
               "ชนิดา", "วรเมธ")
LAST_NAMES = ("ใจดี", "ศรีสวัสดิ์", "บุญประเสริฐ", "แก้วกาญจนา", "สุขเกษม", "วงศ์ไทย", "อินทร์แก้ว")


def national_id(rng=_rng):
    body = str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return body + pin.calc_check_digit(body)


def g_code(rng=_rng, province=50):
    return f"G{rng.randint(60, 69)}{province}{rng.randint(0, 99_999_999):08d}"


def learner(grade="p1", birth="2018-05-17", rng=_rng, **over):
    body = {"national_id": national_id(rng), "prefix": "เด็กหญิง", "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES), "sex": "F", "birth_date": birth, "grade": grade,
            "nationality": "ไทย"}
    body.update(over)
    return body


def new_round(admin, number=1, year=None, **over):
    """An open round (census date 10 June 2026) unless told otherwise; its checks
    before confirming are off unless ``settings`` say otherwise."""
    body = {"academic_year": year or academic_year(), "number": number, "census_date": "2026-06-10",
            "opens_at": "2026-06-01", "closes_at": "2099-06-30", "settings": CHECKS_OFF}
    body.update(over)
    return admin.ok("POST", "/rounds", 201, json=body)


def closed_round(admin, **over):
    now = dt.datetime.now(BKK)
    return new_round(admin, opens_at=(now - dt.timedelta(days=10)).isoformat(),
                     closes_at=(now - dt.timedelta(days=1)).isoformat(), **over)


def learners_url(round_, tree, key):
    return f"/rounds/{round_['id']}/institutions/{tree.id(key)}/learners"


def add(client, round_, tree, key, status=201, **over):
    body = learner(**over)
    created = client.ok("POST", learners_url(round_, tree, key), status, json=body)
    return created, body


def error(response, status, code):
    assert response.status_code == status, f"{response.status_code} {response.text}"
    body = response.json()
    assert body["code"] == code, body
    return body


@contextlib.contextmanager
def rpc(lec_env, timeout=30):
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common.context import system_context
    with ClusterRpcProxy({"AMQP_URI": lec_env["AMQP_URI"]}, timeout=timeout,
                         context_data=system_context("tests")) as proxy:
        yield proxy


def eventually(check, timeout=10, interval=0.1):
    """Retry ``check`` until it returns a true value (events are asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def enrollment_rows(sql, **params):
    """Rows of the enrollment database (to check what an API cannot show: audit, outbox)."""
    from sqlalchemy import create_engine, text

    from services.common import settings
    engine = create_engine(settings.database_url("enrollment"), pool_size=1)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()
