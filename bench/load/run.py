"""Deadline day: many institutions' officers working at once through the gateway.

    make bench-load                                   # 16 officers, 30 seconds
    python -m bench.load.run --users 32 --seconds 60

Starts a system of its own (databases ``lec_benchload_*``, vhost
``lec_benchload``), makes one school and one account per officer in an open
round, then for ``--seconds`` every officer, in a thread of their own, repeats
what a deadline day is made of: record a learner (about 60% of requests), list
a page of their learners (25%) and look at their summary (15%). It prints the
requests per second and the latency (p50, p95, p99) of each kind, and, as the
baseline measured in the same run by the same threads, the gateway's
``/healthz`` (no RPC, no database). At the end every school's learner count is
checked against the learners the officers recorded.

Before the deadline-day phase, two phases measure the CPU (of every process: the
gateway, each service, RabbitMQ, PostgreSQL) one request costs: ``GET /ping`` (the
token checked, one RPC to a service doing nothing: the bare cost of an authenticated
request) and learner edits only (record a learner, then correct it with PATCH, in
turn), and print the ratio ``learner edit: <a> ms CPU per request vs authenticated
RPC ping <b> ms: <a/b>x``.
"""
import argparse
import os
import random
import sys
import threading
import time

import requests
import sqlalchemy

from services.common import settings

from bench.common import (
    Api, bench_env, by_command, cpu_seconds, make_schools, national_id, processes, running_system,
)

MIX = (("add", 0.60), ("list", 0.25), ("summary", 0.15))
EDIT_TARGET = 3.0  # a learner edit costs at most this many authenticated pings


def say(*args):
    print(*args, flush=True)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Officer(threading.Thread):
    """One officer's thread; ``mode``: ``healthz``, ``ping``, ``edit`` (record, correct, in
    turn) or ``mix`` (the deadline day). ``added``: learners recorded before (the count goes on)."""

    def __init__(self, n, url, token, rnd, school, seconds, mode="mix", added=0):
        super().__init__(daemon=True)
        self.n, self.rnd, self.school, self.seconds, self.mode = n, rnd, school, seconds, mode
        self.url = url + "/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.timings = {kind: [] for kind, _ in MIX + (("healthz", 0), ("ping", 0), ("patch", 0))}
        self.errors = {}
        self.added = added
        self.rng = random.Random(n * 7 + len(mode))

    def add(self, learners):
        i = self.n * 1_000_000 + self.added
        male = self.rng.random() < 0.5
        resp = self.request("add", "POST", learners, json={
            "national_id": national_id(i, 4242), "prefix": "เด็กชาย" if male else "เด็กหญิง",
            "first_name": "ทดสอบ", "last_name": "วันสุดท้าย", "sex": "M" if male else "F",
            "birth_date": "2016-03-01", "grade": self.rng.choice(["p1", "p2", "p3", "p4"])})
        if resp.status_code == 201:
            self.added += 1
            return resp.json()["id"]
        return None

    def request(self, kind, method, url, **kwargs):
        started = time.perf_counter()
        resp = self.http.request(method, url, timeout=60, **kwargs)
        self.timings[kind].append(time.perf_counter() - started)
        if resp.status_code >= 400:
            key = f"{kind} {resp.status_code}"
            self.errors[key] = self.errors.get(key, 0) + 1
        return resp

    def run(self):
        learners = f"{self.url}/rounds/{self.rnd['id']}/institutions/{self.school['id']}/learners"
        summary = f"{self.url}/rounds/{self.rnd['id']}/reports/summary"
        health = self.url[:-len("/api/v1")] + "/healthz"
        ping = f"{self.url}/ping"
        deadline = time.perf_counter() + self.seconds
        last = None
        while time.perf_counter() < deadline:
            if self.mode == "healthz":
                self.request("healthz", "GET", health)
                continue
            if self.mode == "ping":
                self.request("ping", "GET", ping)
                continue
            if self.mode == "edit":
                if last is None:
                    last = self.add(learners)
                else:
                    self.request("patch", "PATCH", f"{self.url}/learners/{last}",
                                 json={"last_name": self.rng.choice(["วันสุดท้าย", "ใจดี", "รักไทย"])})
                    last = None
                continue
            pick, kind = self.rng.random(), "add"
            for kind, share in MIX:
                if pick < share:
                    break
                pick -= share
            if kind == "add":
                self.add(learners)
            elif kind == "list":
                self.request("list", "GET", learners, params={"limit": 50, "offset": 0})
            else:
                self.request("summary", "GET", summary, params={"org_unit_id": self.school["id"]})


def own_backends():
    """pids of the PostgreSQL backends connected to this run's databases."""
    engine = sqlalchemy.create_engine(settings.with_database(settings.current().pg_url, "postgres"),
                                      poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            return {int(pid) for (pid,) in conn.execute(sqlalchemy.text(
                "SELECT pid FROM pg_stat_activity WHERE datname LIKE :prefix"),
                {"prefix": settings.current().db_prefix + "%"})}
    finally:
        engine.dispose()


def server_cpu():
    """CPU seconds so far of RabbitMQ's and PostgreSQL's processes, by pid: PostgreSQL's
    backends of this run's databases apart from the rest of the server (on a shared machine
    the rest is mostly other work: it is shown, not counted)."""
    own = own_backends()
    return {("RabbitMQ", pid): cpu_seconds(pid) for pid in by_command("beam.smp")} | \
        {("PostgreSQL" if pid in own else OTHER_PG, pid): cpu_seconds(pid) for pid in by_command("postgres")}


OTHER_PG = "PostgreSQL, other work"


def run_phase(officers):
    for o in officers:
        o.start()
    for o in officers:
        o.join()


def measured_phase(system, officers):
    """Run the phase; CPU seconds it took of each process (the servers' every process:
    ones started during the phase count whole)."""
    pids = processes(system)
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    servers_before = server_cpu()
    run_phase(officers)
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    for (server, pid), seconds in server_cpu().items():
        label = server if server == OTHER_PG else f"{server} (server)"
        before = servers_before.get((server, pid), servers_before.get((OTHER_PG, pid), 0.0))
        cpu[label] = cpu.get(label, 0.0) + seconds - before
    return cpu


CLIENT = "bench client"


def cpu_report(title, cpu, requests_done, seconds):
    """Print each process's CPU in the phase; the milliseconds of CPU per request, all processes."""
    say(f"\n   CPU during the {title} phase (seconds; ms per request)")
    other = cpu.pop(OTHER_PG, 0.0)
    client = cpu.pop(CLIENT, 0.0)   # the officers' side: not the system's cost
    for name, spent in sorted(cpu.items(), key=lambda kv: -kv[1]):
        if spent >= 0.05:
            say(f"   {name:<24} {spent:>7.1f} s {spent * 1000 / max(1, requests_done):>7.1f} ms")
    per_request = sum(cpu.values()) * 1000 / max(1, requests_done)
    say(f"   (not counted: PostgreSQL's other backends and its own processes, {other:.1f} s; "
        f"this benchmark's own client, {client:.1f} s)")
    say(f"   {'all':<24} {sum(cpu.values()):>7.1f} s {per_request:>7.1f} ms"
        f"  (the machine has {os.cpu_count()} cores: {os.cpu_count() * seconds:.0f} CPU s in the phase)")
    return per_request


def report(title, officers, seconds, kinds):
    say(f"\n{title}")
    say(f"   {'request':<10} {'count':>8} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    total = 0
    for kind in kinds:
        t = [x for o in officers for x in o.timings[kind]]
        total += len(t)
        say(f"   {kind:<10} {len(t):>8,} {len(t) / seconds:>8.1f} {quantile(t, .5) * 1000:>8.1f} "
            f"{quantile(t, .95) * 1000:>8.1f} {quantile(t, .99) * 1000:>8.1f}")
    errors = {}
    for o in officers:
        for k, v in o.errors.items():
            errors[k] = errors.get(k, 0) + v
    say(f"   all        {total:>8,} {total / seconds:>8.1f}   errors: {errors or 'none'}")
    return total / seconds, errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=16, help="officers working at once")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    parser.add_argument("--logins", type=int, default=0, metavar="OFFICERS",
                        help="then the morning's login storm with this many officers (bench/load/logins.py)")
    args = parser.parse_args(argv)
    env = bench_env(vhost="lec_benchload", db_prefix="lec_benchload_")
    with running_system(env, "bench-load-logs", keep=args.keep) as system:
        rnd, schools = make_schools(system.url, [0] * args.users, f"{int(time.time()) % 100000}")
        tokens = [client.session.headers["Authorization"].split(" ", 1)[1] for _, client in schools]
        make = lambda mode: [Officer(n, system.url, tokens[n], rnd, school, args.seconds, mode)  # noqa: E731
                             for n, (school, _) in enumerate(schools)]
        say(f"{args.users} officers, {args.seconds:.0f} s a phase, 2 gunicorn workers x 8 threads, "
            "one process per service")
        base = make("healthz")
        run_phase(base)
        base_rate, _ = report("baseline: GET /healthz (the gateway alone)", base, args.seconds, ["healthz"])
        pings = make("ping")
        cpu = measured_phase(system, pings)
        ping_rate, ping_errors = report("baseline: GET /api/v1/ping (token checked, one RPC to enrollment)",
                                        pings, args.seconds, ["ping"])
        ping_ms = cpu_report("ping", cpu, ping_rate * args.seconds, args.seconds)
        edits = make("edit")
        cpu = measured_phase(system, edits)
        edit_rate, edit_errors = report("learner edits only: record (POST), correct (PATCH), in turn",
                                        edits, args.seconds, ["add", "patch"])
        edit_ms = cpu_report("learner-edit", cpu, edit_rate * args.seconds, args.seconds)
        work = [Officer(n, system.url, tokens[n], rnd, school, args.seconds, "mix", edits[n].added)
                for n, (school, _) in enumerate(schools)]
        cpu = measured_phase(system, work)
        rate, errors = report("deadline day: record, list, summary", work, args.seconds, [k for k, _ in MIX])
        cpu_report("deadline-day", cpu, rate * args.seconds, args.seconds)
        errors = {**ping_errors, **edit_errors, **errors}
        admin, _ = Api(system.url).login("bench-admin", "bench-admin-password")
        wrong = []
        for officer, (school, _) in zip(work, schools):
            listed = admin.call("GET", f"/rounds/{rnd['id']}/institutions/{school['id']}/learners",
                                params={"limit": 1})["total"]
            if listed != officer.added:
                wrong.append((school["id"], listed, officer.added))
        say(f"\nrequests/s: {rate:.1f} with the services behind them, {base_rate:.1f} for the gateway alone "
            f"({rate / base_rate:.2f} of it)")
        recorded = sum(o.added for o in work)
        say(f"learner edit: {edit_ms:.1f} ms CPU per request vs authenticated RPC ping {ping_ms:.1f} ms: "
            f"{edit_ms / ping_ms:.2f}x (target <= {EDIT_TARGET:g}x)")
        say(f"learners recorded: {recorded:,} in all phases; "
            + ("every school's count equals what its officer recorded" if not wrong
               else f"COUNTS DIFFER: {wrong}"))
        if args.logins:
            from bench.load import logins
            _, login_errors = logins.storm(system, env["LEC_DB_PREFIX"], officers=args.logins)
            errors.update({f"login storm: {k}": v for k, v in login_errors.items()})
    return 1 if wrong or any(not k.startswith(("add 409",)) for k in errors) else 0


if __name__ == "__main__":
    sys.exit(main())
