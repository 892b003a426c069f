"""Demo data, loaded through the public API on first start: Chiang Mai province
with a few LAOs, their schools, CDCs and other-affiliation schools, an
account for every level, and an open round."""
import datetime as dt

import requests

from services.common import settings

DEMO_PASSWORD = "demo-pass-2569"
PROVINCE = {"code": "50", "name": "เชียงใหม่", "type": "province"}
LAOS = [
    {"code": "5010101", "name": "เทศบาลนครเชียงใหม่", "account": "lao.cnxcity", "children": [
        {"code": "1050010001", "name": "โรงเรียนเทศบาลวัดเกตการาม", "type": "school", "account": "school.ketkaram"},
        {"code": "1050010002", "name": "โรงเรียนเทศบาลดอกเงิน", "type": "school", "account": "school.dokngoen"},
        {"code": "3050010001", "name": "ศูนย์พัฒนาเด็กเล็กเทศบาลนครเชียงใหม่", "type": "cdc", "account": "cdc.cnxcity"},
    ]},
    {"code": "6500103", "name": "องค์การบริหารส่วนตำบลสุเทพ", "account": "lao.suthep", "children": [
        {"code": "3050030001", "name": "ศูนย์พัฒนาเด็กเล็กบ้านสุเทพ", "type": "cdc", "account": "cdc.suthep"},
        {"code": "50030101", "name": "โรงเรียนบ้านสุเทพ", "type": "other_school", "affiliation": "obec"},
        {"code": "50030102", "name": "โรงเรียนตำรวจตระเวนชายแดนบ้านแม่เหียะ", "type": "other_school",
         "affiliation": "bpp"},
    ]},
    {"code": "4500101", "name": "องค์การบริหารส่วนจังหวัดเชียงใหม่", "account": "lao.cmpao", "children": [
        {"code": "1050020001", "name": "โรงเรียนองค์การบริหารส่วนจังหวัดเชียงใหม่", "type": "school",
         "account": "school.cmpao"},
    ]},
]


class Api:
    def __init__(self, url):
        self.url = url.rstrip("/") + "/api/v1"
        self.session = requests.Session()

    def login(self, username, password):
        r = self.session.post(self.url + "/auth/token", json={"username": username, "password": password},
                              timeout=30)
        r.raise_for_status()
        self.session.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        return r.json()["user"]

    def get(self, path, **params):
        r = self.session.get(self.url + path, params=params, timeout=60)
        r.raise_for_status()
        return r.json()

    def post(self, path, body):
        r = self.session.post(self.url + path, json=body, timeout=60)
        if r.status_code >= 400:
            raise RuntimeError(f"POST {path}: {r.status_code} {r.text}")
        return r.json()


def current_round_dates(today=None):
    """Round 2 windows open around November, round 1 around June (census date 10 June)."""
    today = today or dt.date.today()
    year_be = today.year + 543 if today.month >= 5 else today.year + 542
    return year_be, today


def load(url):
    configured = settings.current()
    admin_user = configured.admin_username or settings.DEV_ADMIN_USERNAME
    admin_password = configured.admin_password or settings.DEV_ADMIN_PASSWORD
    api = Api(url)
    me = api.login(admin_user, admin_password)
    logins = [(admin_user, "(yours)" if configured.admin_password else admin_password,
               "department (the whole country)")]
    provinces = api.get(f"/org-units/{me['org_unit_id']}/children", type="province", limit=1000)["items"]
    province = next((p for p in provinces if p["code"] == PROVINCE["code"]), None)
    accounts = [("province.chiangmai", "province เชียงใหม่")]
    for lao in LAOS:
        accounts.append((lao["account"], f"LAO {lao['name']}"))
        accounts += [(c["account"], f"{c['type']} {c['name']}") for c in lao["children"] if c.get("account")]
    logins += [(u, DEMO_PASSWORD, what) for u, what in accounts]
    if province is not None:
        print("demo data already loaded", flush=True)
        return logins

    print("loading demo data ...", flush=True)
    province = api.post("/org-units", dict(PROVINCE, parent_id=me["org_unit_id"]))
    api.post("/users", {"username": "province.chiangmai", "password": DEMO_PASSWORD,
                        "org_unit_id": province["id"]})
    for lao in LAOS:
        unit = api.post("/org-units", {"code": lao["code"], "name": lao["name"], "type": "lao",
                                       "parent_id": province["id"]})
        api.post("/users", {"username": lao["account"], "password": DEMO_PASSWORD, "org_unit_id": unit["id"]})
        for child in lao["children"]:
            body = {k: child[k] for k in ("code", "name", "type")}
            body["parent_id"] = unit["id"]
            if child.get("affiliation"):
                body["affiliation"] = child["affiliation"]
            inst = api.post("/org-units", body)
            if child.get("account"):
                api.post("/users", {"username": child["account"], "password": DEMO_PASSWORD,
                                    "org_unit_id": inst["id"]})

    year_be, today = current_round_dates()
    rounds = api.get("/rounds", academic_year=year_be)["items"]
    if not any(r["number"] == 2 for r in rounds):
        api.post("/rounds", {
            "academic_year": year_be, "number": 2,
            "census_date": (today - dt.timedelta(days=7)).isoformat(),
            "opens_at": (today - dt.timedelta(days=14)).isoformat(),
            "closes_at": (today + dt.timedelta(days=30)).isoformat(),
        })
    if not any(r["number"] == 1 for r in rounds):
        api.post("/rounds", {
            "academic_year": year_be, "number": 1, "census_date": f"{year_be - 543}-06-10",
            "opens_at": f"{year_be - 543}-06-01", "closes_at": f"{year_be - 543}-06-30",
        })
    open_round = next(r for r in api.get("/rounds", academic_year=year_be)["items"] if r["number"] == 2)
    load_learners(url, open_round["id"], dt.date.fromisoformat(open_round["census_date"]))
    return logins


# -- enrollment: a few learners and other-school headcounts ----------------------------------

DEMO_LEARNERS = {
    # account -> (prefix, first name, last name, sex, grade, age at the census date)
    "school.ketkaram": [("เด็กชาย", "ธนากร", "ใจดี", "M", "p1", 7), ("เด็กหญิง", "กัญญาณัฐ", "ศรีสุข", "F", "p1", 7),
                        ("เด็กชาย", "ภูมิพัฒน์", "บุญมา", "M", "p4", 10), ("เด็กหญิง", "พิมพ์ลดา", "คำแสน", "F", "k2", 5)],
    "school.dokngoen": [("เด็กหญิง", "ณัฐธิดา", "ปัญญาดี", "F", "p2", 8), ("เด็กชาย", "ชยพล", "ทองคำ", "M", "p6", 12),
                        ("เด็กชาย", "จายแสง", "ลุงมา", "M", "p3", 9)],
    "school.cmpao": [("นาย", "ศุภกร", "ณ เชียงใหม่", "M", "m4", 16), ("นางสาว", "วรัญญา", "อินทร์แก้ว", "F", "m6", 18),
                     ("เด็กหญิง", "ปวีณา", "จันทร์หอม", "F", "m1", 13)],
    "cdc.cnxcity": [("เด็กชาย", "กฤษณะ", "มณีวงศ์", "M", "cdc", 3), ("เด็กหญิง", "เบญญาภา", "พรหมมา", "F", "cdc", 4)],
    "cdc.suthep": [("เด็กหญิง", "ญาณิศา", "ยอดเมือง", "F", "cdc", 2), ("เด็กชาย", "พีรพัฒน์", "สิทธิชัย", "M", "cdc", 4)],
}
DEMO_HEADCOUNTS = {"50030101": {"k2": 18, "k3": 20, "p1": 24, "p2": 22, "p3": 25, "p4": 21, "p5": 23, "p6": 19},
                   "50030102": {"p1": 12, "p2": 10, "p3": 11, "p4": 9, "p5": 8, "p6": 7}}


def _demo_national_id(n):
    from stdnum.th import pin
    body = f"15099{n:07d}"  # a Chiang Mai-style prefix and a running number
    return body + pin.calc_check_digit(body)


def load_learners(url, round_id, census_date):
    """Learners for the demo schools and CDCs in the open round (valid IDs, one
    G-Code), and the headcounts of Suthep's other-affiliation schools."""
    n = 0
    for account, learners in DEMO_LEARNERS.items():
        api = Api(url)
        user = api.login(account, DEMO_PASSWORD)
        path = f"/rounds/{round_id}/institutions/{user['org_unit_id']}/learners"
        for prefix, first, last, sex, grade, age in learners:
            n += 1
            born = dt.date(census_date.year - age, census_date.month, 1) - dt.timedelta(days=40 + 9 * n)
            body = {"prefix": prefix, "first_name": first, "last_name": last, "sex": sex,
                    "birth_date": born.isoformat(), "grade": grade, "nationality": "ไทย"}
            if first == "จายแสง":  # no civil registration: a G-Code of the Ministry of Education
                body.update(g_code=f"G{(census_date.year + 543) % 100:02d}5000000{n:03d}", nationality="เมียนมา")
            else:
                body["national_id"] = _demo_national_id(n)
            api.post(path, body)
    api = Api(url)
    user = api.login("lao.suthep", DEMO_PASSWORD)
    schools = api.get(f"/org-units/{user['org_unit_id']}/children", type="other_school")["items"]
    for school in schools:
        counts = DEMO_HEADCOUNTS.get(school["code"])
        if counts:
            r = api.session.put(f"{api.url}/rounds/{round_id}/institutions/{school['id']}/headcount",
                                json={"counts": counts}, timeout=60)
            if r.status_code >= 400:
                raise RuntimeError(f"PUT headcount: {r.status_code} {r.text}")
    print(f"demo learners: {n}", flush=True)
