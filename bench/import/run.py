"""Import benchmark: learners through the gateway beside a bare PostgreSQL COPY.

    python -m bench.import.run                      # 100,000 and 1,000,000 learners
    python -m bench.import.run --rows 20000         # a quick run

It starts its own system (every service and the gateway, with databases
``lec_bench_*`` and the broker vhost ``lec_bench``, both made afresh), creates
one school per size in an open round, writes a realistic CSV for each size
(valid check-digit IDs, Thai names, Thai column headers, Buddhist-era dates),
and for each:

1. baseline: ``COPY`` of the same file into a bare table (text columns, no
   index) in the enrollment database;
2. the import: one ``POST .../learners/import`` streaming the file.

It prints rows per second of both and their ratio, and the peak resident
memory (``VmHWM``, reset before each import) of every process of the system.
"""
import argparse
import csv
import os
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import requests
from stdnum.th import pin

from services.common import migrate, settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench-password-1"
ADMIN = ("bench-admin", "bench-admin-password")

FIRST_M = ("สมชาย", "ธนากร", "ณัฐวุฒิ", "ภูมิพัฒน์", "กิตติพัศ", "ธีรภัทร", "ปัณณวัฒน์", "วรเมธ",
           "อภิสิทธิ์", "ชยพล", "พีรพัฒน์", "ศุภกร", "ภาคิน", "กฤษณะ", "ธนภัทร", "นพดล")
FIRST_F = ("สมหญิง", "กัญญาณัฐ", "พิมพ์ลดา", "ณัฐธิดา", "ชนิดา", "อรอุมา", "ปวีณา", "กนกวรรณ",
           "ธิดารัตน์", "วรัญญา", "สุพิชชา", "ญาณิศา", "พรนภา", "ศิริพร", "เบญญาภา", "ปิยธิดา")
LAST = ("ใจดี", "ศรีสุข", "บุญมา", "แก้วมณี", "ทองคำ", "รักไทย", "ศรีสวัสดิ์", "บุญประเสริฐ",
        "แก้วกาญจนา", "สุขเกษม", "วงศ์ไทย", "อินทร์แก้ว", "ณ เชียงใหม่", "คำแสน", "ปัญญาดี",
        "จันทร์หอม", "มณีวงศ์", "สิทธิชัย", "พรหมมา", "ยอดเมือง")
GRADES = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6")
THAI_GRADE = {"k1": "อ.1", "k2": "อ.2", "k3": "อ.3", "p1": "ป.1", "p2": "ป.2", "p3": "ป.3",
              "p4": "ป.4", "p5": "ป.5", "p6": "ป.6"}
HEADER = ["ลำดับ", "เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเดือนปีเกิด",
          "ชั้น", "สัญชาติ"]
COPY_TABLE = ("seq text, national_id text, prefix text, first_name text, last_name text, "
              "sex text, birth_date text, grade text, nationality text")


# -- data --------------------------------------------------------------------------------

def national_id(i, salt):
    """The i-th of a sequence of distinct valid IDs (7919 is coprime with 10**11)."""
    body = f"{1 + (salt + i) % 8}{(i * 7919 + salt) % 10 ** 11:011d}"
    return body + pin.calc_check_digit(body)


def write_csv(path, rows, salt):
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
            writer.writerow([i + 1, national_id(i, salt), prefix, rng.choice(FIRST_M if male else FIRST_F),
                             rng.choice(LAST), "ชาย" if male else "หญิง", born, THAI_GRADE[grade], "ไทย"])


# -- processes and memory ------------------------------------------------------------------

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


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peaks(pids):
    for pid in pids.values():
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


# -- the system ----------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env():
    from deploy import infra
    vhost = "lec_bench"
    infra.ensure_rabbitmq(settings.DEFAULT_AMQP_URI)
    infra.ensure_vhost(vhost)
    return {
        "AMQP_URI": f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
        "LEC_PG_URL": infra.ensure_postgres(),
        "LEC_DB_PREFIX": "lec_bench_",
        "LEC_ADMIN_USERNAME": ADMIN[0], "LEC_ADMIN_PASSWORD": ADMIN[1],
        "LEC_ACCESS_LOG": "", "LEC_LOG_LEVEL": "WARNING",
    }


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
        return resp.json()

    def login(self, username, password):
        body = self.call("POST", "/auth/token", json={"username": username, "password": password})
        return Api(self.url[:-len("/api/v1")], body["access_token"]), body["user"]


def make_schools(url, sizes, tag):
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


# -- measurements ----------------------------------------------------------------------------

def copy_baseline(path, rows):
    dsn = settings.database_url("enrollment").replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy ({COPY_TABLE})")
            conn.commit()
            started = time.perf_counter()
            with open(path, "rb") as fh:
                fh.read(3)  # the BOM
                cur.copy_expert("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
            conn.commit()
            seconds = time.perf_counter() - started
            cur.execute("SELECT count(*) FROM bench_copy")
            assert cur.fetchone()[0] == rows
            cur.execute("DROP TABLE bench_copy")
            conn.commit()
        return seconds
    finally:
        conn.close()


class Sampler(threading.Thread):
    """Samples every process's resident memory while an import runs."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = {name: 0 for name in pids}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.25):
            for name, pid in self.pids.items():
                rss = status_kb(pid, "VmRSS") or 0
                self.peak[name] = max(self.peak[name], rss)


def import_file(client, rnd, school, path):
    url = f"/rounds/{rnd['id']}/institutions/{school['id']}/learners/import"
    with open(path, "rb") as fh:
        started = time.perf_counter()
        result = client.call("POST", url, data=fh, headers={"Content-Type": "text/csv"}, timeout=3600)
    return time.perf_counter() - started, result


def backend_pids():
    """The PostgreSQL server processes serving the bench's databases."""
    dsn = settings.database_url("enrollment").replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname LIKE %s AND pid <> pg_backend_pid()",
                    (settings.db_prefix() + "%",))
        return [r[0] for r in cur.fetchall()]


def outbox_pending():
    dsn = settings.database_url("enrollment").replace("postgresql+psycopg2://", "postgresql://")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return cur.fetchone()[0]


def run_size(system, rnd, school, client, rows, workdir, salt):
    path = Path(workdir) / f"learners-{rows}.csv"
    started = time.perf_counter()
    write_csv(path, rows, salt)
    size_mb = path.stat().st_size / 1e6
    print(f"\n== {rows:,} learners: {path.name}, {size_mb:.1f} MB, written in "
          f"{time.perf_counter() - started:.1f}s", flush=True)
    copy_seconds = copy_baseline(path, rows)
    print(f"   COPY into a bare table: {copy_seconds:.2f}s = {rows / copy_seconds:,.0f} rows/s", flush=True)

    pids = processes(system)
    reset_peaks(pids)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    backends_before = {pid: cpu_seconds(pid) for pid in backend_pids()}
    sampler = Sampler(pids)
    sampler.start()
    seconds, result = import_file(client, rnd, school, path)
    sampler.stop.set()
    sampler.join()
    ok = result["accepted"] == rows and result["rejected_total"] == 0
    print(f"   import through the gateway: {seconds:.2f}s = {rows / seconds:,.0f} rows/s "
          f"(accepted {result['accepted']:,}, rejected {result['rejected_total']:,})"
          f"{'' if ok else '  <-- NOT ALL ACCEPTED'}", flush=True)
    print(f"   ratio: the import takes {seconds / copy_seconds:.1f}x the time of COPY", flush=True)
    print(f"   {'process':<22} {'peak RSS (VmHWM)':>17} {'sampled peak':>13} {'CPU s':>7}")
    for name, pid in pids.items():
        hwm = status_kb(pid, "VmHWM")
        cpu = cpu_seconds(pid) - cpu_before[name]
        print(f"   {name:<22} {(hwm or 0) / 1024:>14.1f} MB {sampler.peak[name] / 1024:>10.1f} MB {cpu:>7.1f}")
    backends = {pid: cpu_seconds(pid) - backends_before.get(pid, 0.0) for pid in backend_pids()}
    print(f"   {'PostgreSQL backends':<22} {'(server, not ours)':>17} {len(backends):>10} pids "
          f"{sum(backends.values()):>7.1f}")
    pending = outbox_pending()
    print(f"   learner_added events still in the outbox when the import answered: {pending:,}", flush=True)
    time.sleep(10)
    left = outbox_pending()
    print(f"   the outbox relay then published {(pending - left) / 10:,.0f} events/s "
          f"({left:,} left to publish)", flush=True)
    path.unlink()
    return {"rows": rows, "seconds": seconds, "copy_seconds": copy_seconds, "ok": ok}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    args = parser.parse_args(argv)

    env = bench_env()
    os.environ.update(env)
    for service in settings.SERVICES:
        url = settings.database_url(service)
        migrate.drop_database(url)
        migrate.migrate(service, url)

    from deploy.launcher import System
    system = System(env=env, port=free_port(), log_dir=ROOT / ".lec" / "bench-logs")
    print(f"starting the system (logs in {system.log_dir}) ...", flush=True)
    system.start()
    results = []
    try:
        system.wait_ready(timeout=120)
        tag = f"{int(time.time()) % 100000}"
        rnd, schools = make_schools(system.url, args.rows, tag)
        with tempfile.TemporaryDirectory(prefix="lec-bench-") as workdir:
            for (school, client), rows in zip(schools, args.rows):
                results.append(run_size(system, rnd, school, client, rows, workdir, salt=len(results) * 7))
    finally:
        system.stop()
        if not args.keep:
            for service in settings.SERVICES:
                migrate.drop_database(settings.database_url(service))
    print("\nsummary:")
    for r in results:
        print(f"   {r['rows']:>10,} rows: import {r['rows'] / r['seconds']:>9,.0f} rows/s, "
              f"COPY {r['rows'] / r['copy_seconds']:>10,.0f} rows/s, ratio {r['seconds'] / r['copy_seconds']:.1f}x")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
