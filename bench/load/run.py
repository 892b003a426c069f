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
"""
import argparse
import os
import random
import sys
import threading
import time

import requests

from bench.common import (
    Api, bench_env, by_command, cpu_seconds, make_schools, national_id, processes, running_system,
)

MIX = (("add", 0.60), ("list", 0.25), ("summary", 0.15))


def say(*args):
    print(*args, flush=True)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Officer(threading.Thread):
    def __init__(self, n, url, token, rnd, school, seconds, baseline=False):
        super().__init__(daemon=True)
        self.n, self.rnd, self.school, self.seconds, self.baseline = n, rnd, school, seconds, baseline
        self.url = url + "/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.timings = {kind: [] for kind, _ in MIX + (("healthz", 0),)}
        self.errors = {}
        self.added = 0
        self.rng = random.Random(n)

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
        deadline = time.perf_counter() + self.seconds
        while time.perf_counter() < deadline:
            if self.baseline:
                self.request("healthz", "GET", health)
                continue
            pick, kind = self.rng.random(), "add"
            for kind, share in MIX:
                if pick < share:
                    break
                pick -= share
            if kind == "add":
                i = self.n * 1_000_000 + self.added
                male = self.rng.random() < 0.5
                resp = self.request("add", "POST", learners, json={
                    "national_id": national_id(i, 4242), "prefix": "เด็กชาย" if male else "เด็กหญิง",
                    "first_name": "ทดสอบ", "last_name": "วันสุดท้าย", "sex": "M" if male else "F",
                    "birth_date": "2016-03-01", "grade": self.rng.choice(["p1", "p2", "p3", "p4"])})
                if resp.status_code == 201:
                    self.added += 1
            elif kind == "list":
                self.request("list", "GET", learners, params={"limit": 50, "offset": 0})
            else:
                self.request("summary", "GET", summary, params={"org_unit_id": self.school["id"]})


def server_cpu():
    """CPU seconds so far of RabbitMQ's and PostgreSQL's processes, by pid."""
    return {("RabbitMQ", pid): cpu_seconds(pid) for pid in by_command("beam.smp")} | \
        {("PostgreSQL", pid): cpu_seconds(pid) for pid in by_command("postgres")}


def run_phase(officers):
    for o in officers:
        o.start()
    for o in officers:
        o.join()


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
    args = parser.parse_args(argv)
    env = bench_env(vhost="lec_benchload", db_prefix="lec_benchload_")
    with running_system(env, "bench-load-logs", keep=args.keep) as system:
        rnd, schools = make_schools(system.url, [0] * args.users, f"{int(time.time()) % 100000}")
        tokens = [client.session.headers["Authorization"].split(" ", 1)[1] for _, client in schools]
        make = lambda baseline: [Officer(n, system.url, tokens[n], rnd, school, args.seconds, baseline)  # noqa: E731
                                 for n, (school, _) in enumerate(schools)]
        say(f"{args.users} officers, {args.seconds:.0f} s a phase, 2 gunicorn workers x 8 threads, "
            "one process per service")
        base = make(True)
        run_phase(base)
        base_rate, _ = report("baseline: GET /healthz (the gateway alone)", base, args.seconds, ["healthz"])
        work = make(False)
        pids = processes(system)
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        servers_before = server_cpu()
        run_phase(work)
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
        # the servers (every process of theirs; ones started during the phase count whole)
        for (server, pid), seconds in server_cpu().items():
            label = f"{server} (server)"
            cpu[label] = cpu.get(label, 0.0) + seconds - servers_before.get((server, pid), 0.0)
        rate, errors = report("deadline day: record, list, summary", work, args.seconds, [k for k, _ in MIX])
        requests_done = rate * args.seconds
        say("\n   CPU during the deadline-day phase (seconds; ms per request)")
        for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            if seconds >= 0.05:
                say(f"   {name:<24} {seconds:>7.1f} s {seconds * 1000 / max(1, requests_done):>7.1f} ms")
        say(f"   {'all':<24} {sum(cpu.values()):>7.1f} s {sum(cpu.values()) * 1000 / max(1, requests_done):>7.1f} ms"
            f"  (the machine has {os.cpu_count()} cores: {os.cpu_count() * args.seconds:.0f} CPU s in the phase)")
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
        say(f"learners recorded: {recorded:,} ({recorded / args.seconds:.1f}/s); "
            + ("every school's count equals what its officer recorded" if not wrong
               else f"COUNTS DIFFER: {wrong}"))
    return 1 if wrong or any(not k.startswith(("add 409",)) for k in errors) else 0


if __name__ == "__main__":
    sys.exit(main())
