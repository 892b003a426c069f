"""Agency clients in the tests: created by the department, signed in with client credentials."""
import itertools

from tests.client import Client, unique

_addresses = itertools.count(20)


def address():
    """A client address of its own for each sign-in series (the throttle counts per address)."""
    return f"198.51.100.{next(_addresses) % 200 + 20}"


def create_agency(admin, name=None):
    body = {"name": name or unique("หน่วยงานทดสอบ "), "description": "ดึงจำนวนที่ยืนยันแล้ว"}
    return admin.ok("POST", "/agencies", 201, json=body)


def token_response(api, client_id, client_secret, forwarded=None):
    return api.post("/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                         "client_secret": client_secret},
                    headers={"X-Forwarded-For": forwarded or address()})


def agency_client(api, agency, secret=None):
    r = token_response(api, agency["client_id"], secret or agency["client_secret"])
    assert r.status_code == 200, r.text
    body = r.json()
    return Client(api.base_url, body["access_token"], body["user"])


def feed(client, rid, after=None, limit=None, status=200):
    params = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
    return client.ok("GET", f"/rounds/{rid}/confirmed-counts", status, params=params)


def whole_feed(client, rid, after=None, limit=100):
    """Every item after ``after``, page by page; (items, the cursor to follow from)."""
    items = []
    while True:
        page = feed(client, rid, after, limit)
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return items, after
