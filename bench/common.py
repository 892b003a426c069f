"""What the benchmarks that run the whole system share: a system of their own
(databases and broker vhost made afresh, dropped afterwards), a gateway client,
schools with their users in an open round, and realistic import files."""
import contextlib
import csv
import os
import random
import socket
import time
from pathlib import Path

import requests
from stdnum.th import pin

from services.common import migrate, settings

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"
ADMIN = ("bench-admin", "bench-admin-password")

FIRST_M = ("สมชาย", "ธนากร", "ณัฐวุฒิ", "ภูมิพัฒน์", "กิตติพัศ", "ธีรภัทร", "ปัณณวัฒน์", "วรเมธ",
           "อภิสิทธิ์", "ชยพล", "พีรพัฒน์", "ศุภกร", "ภาคิน", "กฤษณะ", "ธนภัทร", "นพดล")
FIRST_F = ("สมหญิง", "กัญญาณัฐ", "พิมพ์ลดา", "ณัฐธิดา", "ชนิดา", "อรอุมา", "ปวีณา", "กนกวรรณ",
           "ธิดารัตน์", "วรัญญา", "สุพิชชา", "ญาณิศา", "พรนภา", "ศิริพร", "เบญญาภา", "ปิยธิดา")
LAST = ("ใจดี", "ศรีสุข", "บุญมา", "แก้วมณี", "ทองคำ", "รักไทย", "ศรีสวัสดิ์", "บุญประเสริฐ",
        "แก้วกาญจนา", "สุขเกษม", "วงศ์ไทย", "อินทร์แก้ว", "ณ เชียงใหม่", "คำแสน", "ปัญญาดี",
        "จันทร์หอม", "มณีวงศ์", "สิทธิชัย", "พรหมมา", "ยอดเมือง")
# endings that make family names of the names above: a Thai family name belongs to one
# family, so the same full name and birth date under two IDs is rare, as in real files
SURNAME_ENDS = ("", "วงศ์", "ศักดิ์", "สกุล", "พันธ์", "รัตน์", "กุล", "ชัย", "ทอง", "เจริญ", "สุข",
                "ศรี", "พงษ์", "สวัสดิ์", "บุตร", "ประเสริฐ", "มงคล", "นาค", "แสง", "ดี", "คำ", "จันทร์",
                "เพชร", "ทิพย์", "วัฒนา", "สมบูรณ์", "ภักดี", "ยืนยง", "รุ่งเรือง", "อุดม", "ธรรม", "บุญ",
                "พรหม", "สิงห์", "เดช", "แก้ว", "มณี", "สาร", "ไพศาล", "ชาญ", "ปัญญา", "ศิลป์", "นิล",
                "ฤทธิ์", "กิจ", "วิเศษ", "เลิศ", "งาม", "ทรัพย์", "ไชย")
GRADES = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6")
THAI_GRADE = {"k1": "อ.1", "k2": "อ.2", "k3": "อ.3", "p1": "ป.1", "p2": "ป.2", "p3": "ป.3",
              "p4": "ป.4", "p5": "ป.5", "p6": "ป.6"}
HEADER = ["ลำดับ", "เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเดือนปีเกิด",
          "ชั้น", "สัญชาติ"]


# -- data --------------------------------------------------------------------------------

def national_id(i, salt):
    """The i-th of a sequence of distinct valid IDs (7919 is coprime with 10**11)."""
    body = f"{1 + (salt + i) % 8}{(i * 7919 + salt) % 10 ** 11:011d}"
    return body + pin.calc_check_digit(body)


def write_csv(path, rows, salt):
    """An import file of ``rows`` learners (Thai headers, Buddhist-era dates)."""
    rng = random.Random(salt)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(rows):
            grade = rng.choice(GRADES)
            age = GRADES.index(grade) + 3
            male = rng.random() < 0.5
            prefix = "เด็กชาย" if male else "เด็กหญิง"
            born = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{2569 - age - 1}"
            family = rng.choice(LAST) + rng.choice(SURNAME_ENDS) + rng.choice(SURNAME_ENDS)
            writer.writerow([i + 1, national_id(i, salt), prefix, rng.choice(FIRST_M if male else FIRST_F),
                             family, "ชาย" if male else "หญิง", born, THAI_GRADE[grade], "ไทย"])


# -- the system ----------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_name(base):
    """``base`` with ``LEC_BENCH_ID`` appended, so that two runs of one
    benchmark on one machine keep to their own vhost and databases."""
    suffix = settings.current().bench_id
    return f"{base}{suffix}" if suffix else base


def bench_env(vhost="lec_bench", db_prefix="lec_bench_"):
    from deploy import infra
    vhost, db_prefix = bench_name(vhost), bench_name(db_prefix.rstrip("_")) + "_"
    infra.ensure_rabbitmq(settings.DEFAULT_AMQP_URI)
    infra.ensure_vhost(vhost)
    return {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
        "LEC_PG_URL": infra.ensure_postgres(),
        "LEC_DB_PREFIX": db_prefix,
        "LEC_ADMIN_USERNAME": ADMIN[0], "LEC_ADMIN_PASSWORD": ADMIN[1],
        "LEC_ACCESS_LOG": "", "LEC_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def running_system(env, log_name, keep=False):
    """Every service and the gateway on fresh databases; the databases are
    dropped afterwards unless ``keep``."""
    os.environ.update(env)
    settings.reload()
    for service in settings.SERVICES:
        url = settings.database_url(service)
        migrate.drop_database(url)
        migrate.migrate(service, url)
    from deploy.launcher import System
    system = System(env=env, port=free_port(), log_dir=ROOT / ".lec" / log_name)
    print(f"starting the system (logs in {system.log_dir}) ...", flush=True)
    try:
        with system.running(timeout=120):
            yield system
    finally:
        if not keep:
            for service in settings.SERVICES:
                migrate.drop_database(settings.database_url(service))


class Api:
    def __init__(self, url, token=None):
        self.url = url + "/api/v1"
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method, path, expect=200, **kwargs):
        resp = self.session.request(method, self.url + path, timeout=kwargs.pop("timeout", 60), **kwargs)
        if resp.status_code != expect:
            raise SystemExit(f"{method} {path}: {resp.status_code} {resp.text[:500]}")
        return resp.json() if resp.content else None

    def login(self, username, password):
        body = self.call("POST", "/auth/token", json={"username": username, "password": password})
        return Api(self.url[:-len("/api/v1")], body["access_token"]), body["user"]


def make_schools(url, sizes, tag):
    """A province, an LAO, an open round and one school (with a user) per size."""
    admin, user = Api(url).login(*ADMIN)
    province = admin.call("POST", "/org-units", 201, json={"code": f"B{tag}", "name": "จังหวัดทดสอบ",
                                                           "type": "province", "parent_id": user["org_unit_id"]})
    lao = admin.call("POST", "/org-units", 201, json={"code": f"B{tag}L", "name": "เทศบาลทดสอบ",
                                                      "type": "lao", "parent_id": province["id"]})
    rnd = admin.call("POST", "/rounds", 201, json={
        "academic_year": 2569, "number": 1, "census_date": "2026-06-10",
        "opens_at": "2026-01-01", "closes_at": "2099-12-31"})
    schools = []
    for n, size in enumerate(sizes):
        school = admin.call("POST", "/org-units", 201, json={
            "code": f"B{tag}S{n}", "name": f"โรงเรียนทดสอบ {size:,}", "type": "school",
            "parent_id": lao["id"]})
        username = f"bench.school{n}.{tag}"
        admin.call("POST", "/users", 201, json={"username": username, "password": PASSWORD,
                                                 "org_unit_id": school["id"]})
        client, _ = Api(url).login(username, PASSWORD)
        schools.append((school, client))
    return rnd, schools


def import_file(client, rnd, school, path):
    """One ``POST .../learners/import`` streaming the file: (seconds, answer)."""
    url = f"/rounds/{rnd['id']}/institutions/{school['id']}/learners/import"
    with open(path, "rb") as fh:
        started = time.perf_counter()
        result = client.call("POST", url, data=fh, headers={"Content-Type": "text/csv"}, timeout=3600)
    return time.perf_counter() - started, result


# -- processes and their CPU ---------------------------------------------------------------

def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(entry))
        except OSError:
            continue
    return found


def processes(system):
    """name -> pid of every process of the system (gunicorn's workers included)."""
    found = {"bench client": os.getpid()}
    for name, proc in system.procs.items():
        if name == "gateway":
            found["gateway master"] = proc.pid
            for n, pid in enumerate(sorted(children(proc.pid)), start=1):
                found[f"gateway worker {n}"] = pid
        else:
            found[name] = proc.pid
    return found


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


# -- measurements ----------------------------------------------------------------------------


def by_command(*names):
    """pids of this machine's processes with one of these names (the servers the system uses)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() in names:
                        found.append(int(entry))
            except OSError:
                continue
    return found
