"""An HTTP client of the public API, and a builder of fresh org-unit subtrees."""
import itertools
import os
import threading
import uuid

import requests

PASSWORD = "test-password-1"
# the address the tests' clients sign in from (the gateway trusts one proxy in the tests), apart
# from the loopback address that tests of failed sign-ins and generated requests wear out
CLIENT_ADDRESS = "192.0.2.10"
_counter = itertools.count(1)


_years = itertools.count(2581)
_years_lock = threading.Lock()
LAST_ACADEMIC_YEAR = 2800


def academic_years(n=1):
    """``n`` consecutive academic years that no other test of this run uses
    (2581 and up: the demo data takes the current year, 25xx)."""
    with _years_lock:
        years = [next(_years) for _ in range(n)]
    assert years[-1] <= LAST_ACADEMIC_YEAR, "the tests ran out of academic years"
    return years


# Round settings that switch every check before confirming off: for the tests of
# other behaviour, whose rounds confirm units that the checks would hold back
# (empty CDCs, LAOs with no headcounts, random names and birth dates).
CHECKS_OFF = {"checks": {"rules": {code: {"enabled": False} for code in (
    "age_grade_implausible", "age_grade_outside", "no_active_learners", "total_changed",
    "not_found_removals", "likely_duplicate", "headcount_missing", "headcount_changed")}}}


def academic_year():
    return academic_years(1)[0]


def unique(prefix):
    return f"{prefix}{os.getpid() % 1000:03d}{next(_counter):04d}{uuid.uuid4().hex[:4]}"


class Client:
    def __init__(self, base_url, token=None, user=None):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.token = token
        self.user = user
        self.credentials = None  # (username, password) of a client that signed in
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, path):
        if path.startswith("http"):
            return path
        if path.startswith("/api/") or path in ("/healthz", "/readyz", "/metrics", "/"):
            return self.base_url + path
        return self.base_url + "/api/v1" + path

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 60)
        resp = self.session.request(method, self.url(path), **kwargs)
        if resp.status_code == 401 and self._expired(resp) and self.credentials \
                and "Authorization" not in (kwargs.get("headers") or {}):
            # a client that outlives its token (a session-wide one) signs in again, once
            fresh = self.login(*self.credentials)
            self.token, self.user = fresh.token, fresh.user
            self.session.headers["Authorization"] = f"Bearer {self.token}"
            resp = self.session.request(method, self.url(path), **kwargs)
        return resp

    @staticmethod
    def _expired(resp):
        try:
            return resp.json().get("description") == "the access token has expired"
        except ValueError:
            return False

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def put(self, path, json=None, **kwargs):
        return self.request("PUT", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def login(self, username, password=PASSWORD):
        r = requests.post(self.url("/auth/token"), json={"username": username, "password": password},
                          headers={"X-Forwarded-For": CLIENT_ADDRESS}, timeout=60)
        assert r.status_code == 200, r.text
        body = r.json()
        client = Client(self.base_url, body["access_token"], body["user"])
        client.credentials = (username, password)
        return client

    def ok(self, method, path, status=200, **kwargs):
        r = self.request(method, path, **kwargs)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None


class Tree:
    """A fresh province with two LAOs; LAO a has a school, a CDC and an other
    school, LAO b a school. Every unit but the other school has an account."""

    def __init__(self, admin):
        self.admin = admin
        self.units = {}
        self.clients = {}

    def unit(self, key, type, parent_key, **extra):
        parent_id = self.units[parent_key]["id"] if parent_key else self.admin.user["org_unit_id"]
        body = {"code": unique(key[:3].upper()), "name": f"หน่วย {key} ทดสอบ", "type": type,
                "parent_id": parent_id, **extra}
        self.units[key] = self.admin.ok("POST", "/org-units", 201, json=body)
        return self.units[key]

    def account(self, key):
        username = unique(f"u{key}.")
        self.admin.ok("POST", "/users", 201, json={"username": username, "password": PASSWORD,
                                                   "org_unit_id": self.units[key]["id"]})
        self.clients[key] = self.admin.login(username)
        return self.clients[key]

    @classmethod
    def build(cls, admin):
        t = cls(admin)
        t.unit("province", "province", None)
        t.unit("lao_a", "lao", "province")
        t.unit("lao_b", "lao", "province")
        t.unit("school_a", "school", "lao_a")
        t.unit("cdc_a", "cdc", "lao_a")
        t.unit("other_a", "other_school", "lao_a", affiliation="obec")
        t.unit("school_b", "school", "lao_b")
        for key in ("province", "lao_a", "lao_b", "school_a", "cdc_a", "school_b"):
            t.account(key)
        return t

    def id(self, key):
        return self.units[key]["id"]

    def __getitem__(self, key):
        return self.clients[key]
