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
``--statements`` also samples PostgreSQL's active statements through the
import (every 50 ms) and prints the share of the samples each one took.
"""
import argparse
import collections
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2

from bench.common import (
    bench_env, cpu_seconds, import_file, make_schools, processes, running_system, write_csv,
)
from services.common import settings

COPY_TABLE = ("seq text, national_id text, prefix text, first_name text, last_name text, "
              "sex text, birth_date text, grade text, nationality text")


# -- processes and memory ------------------------------------------------------------------

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


class Statements(threading.Thread):
    """Samples the bench databases' active statements while an import runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.counts = collections.Counter()
        self.samples = 0
        self.stop = threading.Event()

    def run(self):
        dsn = settings.database_url("enrollment").replace("postgresql+psycopg2://", "postgresql://")
        conn = psycopg2.connect(dsn)
        conn.autocommit = True  # each sample a statement of its own (a transaction keeps one snapshot)
        with conn, conn.cursor() as cur:
            while not self.stop.wait(0.05):
                cur.execute("SELECT pg_stat_clear_snapshot()")
                cur.execute("SELECT datname, coalesce(wait_event_type || ':' || wait_event || ' ', '') || left(regexp_replace(query, '\\s+', ' ', 'g'), 70) "
                            "FROM pg_stat_activity WHERE state = 'active' AND datname LIKE %s "
                            "AND pid <> pg_backend_pid()", (settings.db_prefix() + "%",))
                self.samples += 1
                for database, query in cur.fetchall():
                    self.counts[(database.rsplit("_", 1)[-1], query.strip())] += 1

    def report(self):
        busy = sum(self.counts.values())
        print(f"   PostgreSQL's active statements: {self.samples:,} samples, {busy:,} statements seen")
        for (service, query), n in self.counts.most_common(8):
            print(f"   {100 * n / max(busy, 1):>5.1f}%  {service:<12} {query}")


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


def run_size(system, rnd, school, client, rows, workdir, salt, statements=False):
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
    active = Statements() if statements else None
    if active:
        active.start()
    seconds, result = import_file(client, rnd, school, path)
    sampler.stop.set()
    sampler.join()
    if active:
        active.stop.set()
        active.join()
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
    if active:
        active.report()
    pending = outbox_pending()
    print(f"   events still in the outbox when the import answered: {pending:,}", flush=True)
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
    parser.add_argument("--statements", action="store_true",
                        help="sample PostgreSQL's active statements through each import")
    args = parser.parse_args(argv)

    results = []
    with running_system(bench_env(), "bench-logs", keep=args.keep) as system:
        tag = f"{int(time.time()) % 100000}"
        rnd, schools = make_schools(system.url, args.rows, tag)
        with tempfile.TemporaryDirectory(prefix="lec-bench-") as workdir:
            for (school, client), rows in zip(schools, args.rows):
                results.append(run_size(system, rnd, school, client, rows, workdir, salt=len(results) * 7,
                                        statements=args.statements))
    print("\nsummary:")
    for r in results:
        print(f"   {r['rows']:>10,} rows: import {r['rows'] / r['seconds']:>9,.0f} rows/s, "
              f"COPY {r['rows'] / r['copy_seconds']:>10,.0f} rows/s, ratio {r['seconds'] / r['copy_seconds']:.1f}x")
    for r in results:
        print(f"import {r['rows']} rows: {r['rows'] / r['seconds']:.0f} rows/s vs COPY "
              f"{r['rows'] / r['copy_seconds']:.0f} rows/s: 1/{r['seconds'] / r['copy_seconds']:.1f} of COPY "
              f"(target >= 1/4)")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
