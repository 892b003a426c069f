#!/usr/bin/env python3
"""Benchmark of the confirmation chain: a synthetic national tree (a fraction
of DOMAIN.md's sizes) confirmed bottom-up through the gateway, with

- confirmations per second, per level and overall (HTTP, with the saga:
  registry, rounds and enrollment RPCs, the seal, the record and the outbox);
- the event lag an agency sees: from a confirmation's ``confirmed_at`` to its
  ``unit_confirmed`` arriving on the agency's own queue (a consumer in a process of
  its own, ``bench/confirm/agency.py``), beside a bare publish -> consume on the
  same broker measured by that process in the same run;
- beside them, the bare nameko RPC round trip (``confirmation.ping``) measured
  in the same run, on the same broker, from as many concurrent clients as confirm
  (``--concurrency``): its rate is the one the confirmations are compared with
  (target: at least a third of it).

It starts a system of its own (vhost ``lec_benchconf``, databases ``lec_benchconf_*``)
and stops it at the end:  ``make bench-confirm``  or
``python -m bench.confirm.run --fraction 0.02 --concurrency 8``.
"""
import warnings

warnings.simplefilter("ignore")  # eventlet's deprecation notice

import argparse  # noqa: E402
import concurrent.futures as cf
import io
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything opens a socket: nameko's standalone RPC needs it

import requests  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import bench_name, cpu_seconds, processes  # noqa: E402
from services.common.checks import DEFAULT_RULES  # noqa: E402

# sizes of the country (DOMAIN.md, "Figures for scale")
NATIONAL = {"provinces": 76, "laos": 7850, "cdcs": 19000, "schools": 1100, "other_schools": 20000,
            "learners": 2_000_000}
SECRET = "bench-secret-0123456789-0123456789-0123"
PASSWORD = "bench-admin-password-1"


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def ms(seconds):
    return f"{seconds * 1000:8.1f}"


class Bench:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.sizes = {k: max(1, round(v * args.fraction)) for k, v in NATIONAL.items()}
        # the country has its 76 provinces whatever the fraction (as long as each has an LAO)
        self.sizes["provinces"] = min(NATIONAL["provinces"], self.sizes["laos"])
        self.session = threading.local()

    # -- the system ------------------------------------------------------------------
    def start(self):
        from deploy import infra
        from deploy.launcher import System
        from services.common import migrate, settings

        infra.ensure_rabbitmq(settings.DEFAULT_AMQP_URI)
        infra.ensure_vhost(bench_name("lec_benchconf"))
        self.amqp = f"pyamqp://guest:guest@127.0.0.1:5672/{bench_name('lec_benchconf')}"
        pg = infra.ensure_postgres()
        env = {"AMQP_URI": self.amqp, "LEC_PG_URL": pg, "LEC_DB_PREFIX": bench_name("lec_benchconf") + "_",
               "LEC_ADMIN_USERNAME": "bench", "LEC_ADMIN_PASSWORD": PASSWORD, "LEC_JWT_SECRET": SECRET,
               "LEC_LOG_LEVEL": "WARNING", "LEC_ACCESS_LOG": "", "LEC_TOKEN_TTL": "86400"}
        os.environ.update(env)
        settings.reload()
        for service in settings.SERVICES:
            url = settings.database_url(service)
            migrate.drop_database(url)
            migrate.migrate(service, url)
        import socket
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.system = System(env=env, port=port, log_dir=ROOT / ".lec" / "bench-confirm-logs")
        self.system.start()
        self.system.wait_ready(timeout=120)
        self.url = self.system.url + "/api/v1"

    def stop(self):
        self.system.stop()

    # -- HTTP with minted tokens ----------------------------------------------------------
    def http(self):
        s = getattr(self.session, "s", None)
        if s is None:
            s = self.session.s = requests.Session()
        return s

    def token(self, unit, user_id):
        """A token of the unit's own account (made by ``build``; ``user_id`` otherwise): the
        gateway takes the role and unit from the account, so each level acts as its own user."""
        from gateway.auth import KeyRing, issue_token
        account = getattr(self, "accounts", {}).get(unit["id"], user_id)
        return issue_token({"id": account, "token_version": 1}, KeyRing("1", SECRET), 86400)

    def make_accounts(self, units):
        """One account per unit that acts in the bench (its role follows the unit)."""
        def one(unit):
            user = self.call("POST", "/users", self.admin_token, expect=(201,), json={
                "username": f"bench.{unit['code'].lower()}", "password": PASSWORD, "org_unit_id": unit["id"]})
            return unit["id"], user["id"]

        with cf.ThreadPoolExecutor(self.args.concurrency) as pool:
            self.accounts = dict(pool.map(one, units))

    def call(self, method, path, token, expect=(200, 201), **kwargs):
        r = self.http().request(method, self.url + path, headers={"Authorization": f"Bearer {token}"},
                                timeout=120, **kwargs)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    # -- the synthetic tree -------------------------------------------------------------------
    def build(self):
        r = requests.post(self.url + "/auth/token", json={"username": "bench", "password": PASSWORD}, timeout=30)
        r.raise_for_status()
        self.admin_token = r.json()["access_token"]
        self.department = self.call("GET", f"/org-units/{r.json()['user']['org_unit_id']}", self.admin_token)
        tag = uuid.uuid4().hex[:4]

        def unit(kind, parent, i, **extra):
            body = {"code": f"B{tag}{kind[:2].upper()}{i:06d}", "name": f"หน่วยทดสอบ {kind} {i}",
                    "type": kind, "parent_id": parent["id"], **extra}
            return self.call("POST", "/org-units", self.admin_token, json=body)

        with cf.ThreadPoolExecutor(self.args.concurrency) as pool:
            self.provinces = list(pool.map(lambda i: unit("province", self.department, i),
                                           range(self.sizes["provinces"])))
            self.laos = list(pool.map(lambda i: unit("lao", self.provinces[i % len(self.provinces)], i),
                                      range(self.sizes["laos"])))
            kinds = ["cdc"] * self.sizes["cdcs"] + ["school"] * self.sizes["schools"]
            self.institutions = list(pool.map(
                lambda ik: unit(ik[1], self.laos[self.rng.randrange(len(self.laos))], ik[0]), enumerate(kinds)))
            self.others = list(pool.map(
                lambda i: unit("other_school", self.laos[i % len(self.laos)], i, affiliation="obec"),
                range(self.sizes["other_schools"])))
        self.make_accounts(self.provinces + self.laos + self.institutions)
        rounds = self.call("POST", "/rounds", self.admin_token, json={
            "academic_year": 2500 + self.rng.randrange(300), "number": 2, "census_date": "2026-11-01",
            "opens_at": "2026-10-01", "closes_at": "2099-11-30",
            # the chain alone: the synthetic units (empty CDCs, no headcounts) would not pass the
            # checks before confirming, which bench/checks measures on its own
            "settings": {"checks": {"rules": {code: {"enabled": False} for code in DEFAULT_RULES}}}},
            expect=(201,))
        self.round_id = rounds["id"]

    def load_learners(self):
        from stdnum.th import pin
        per = max(1, self.sizes["learners"] // max(1, len(self.institutions)))
        births = {"cdc": "2023-05-01", "k2": "2021-05-01", "p1": "2019-05-01", "p4": "2016-05-01"}
        self.expected = {}

        def one(inst):
            lines = ["national_id,first_name,last_name,sex,birth_date,grade"]
            grades = ["cdc"] if inst["type"] == "cdc" else ["k2", "p1", "p4"]
            for _ in range(per):
                digits = str(self.rng.randint(1, 8)) + "".join(str(self.rng.randint(0, 9)) for _ in range(11))
                grade = self.rng.choice(grades)
                lines.append(f"{digits}{pin.calc_check_digit(digits)},ทดสอบ,ระบบ,{self.rng.choice('MF')},"
                             f"{births[grade]},{grade}")
            token = self.token(inst, 1)
            r = self.http().post(f"{self.url}/rounds/{self.round_id}/institutions/{inst['id']}/learners/import",
                                 data=io.BytesIO("\n".join(lines).encode()), timeout=120,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
            r.raise_for_status()
            self.expected[inst["id"]] = r.json()["accepted"]

        def headcount(school):
            parent = next(l for l in self.laos if l["id"] == school["parent_id"])
            n = self.rng.randint(20, 400)
            self.call("PUT", f"/rounds/{self.round_id}/institutions/{school['id']}/headcount",
                      self.token(parent, 1), json={"counts": {"p1": n // 2, "p2": n - n // 2}})

        with cf.ThreadPoolExecutor(self.args.concurrency) as pool:
            list(pool.map(one, self.institutions))
            list(pool.map(headcount, self.others))
        return per

    # -- the agency -----------------------------------------------------------------------------
    def listen(self):
        """The agency: ``bench.confirm.agency`` in a process of its own (so that its
        timestamps wait for nothing of this process's HTTP clients), with the
        baseline, a bare publish -> consume on the same broker, beside it. A green
        thread reads what it writes into ``lags``, ``seen`` and ``bare``."""
        import subprocess
        import tempfile
        self.lags, self.seen, self.bare = [], set(), []
        self.listening = threading.Event()
        self.stop_listening = threading.Event()
        out = Path(tempfile.mkstemp(prefix="bench-agency-", suffix=".txt")[1])
        agency = subprocess.Popen([sys.executable, "-m", "bench.confirm.agency", "--amqp-uri", self.amqp,
                                   "--out", str(out)], cwd=ROOT)

        def read():
            try:
                with open(out) as f:
                    partial = ""
                    while True:
                        stopping = self.stop_listening.is_set()
                        lines = (partial + f.read()).split("\n")
                        partial = lines.pop()   # a line not yet written to its end
                        for kind, *fields in (line.split() for line in lines if line):
                            if kind == "ready":
                                self.listening.set()
                            elif kind == "bare":
                                self.bare.append(float(fields[0]))
                            elif fields[1] not in self.seen:
                                self.seen.add(fields[1])
                                self.lags.append(float(fields[0]))
                        if stopping or agency.poll() is not None:
                            break
                        time.sleep(0.1)
            finally:
                agency.terminate()
                agency.wait()
                out.unlink()

        self.listener = threading.Thread(target=read, daemon=True)
        self.listener.start()
        self.listening.wait(30)

    # -- the baseline ------------------------------------------------------------------------------
    def rpc_round_trips(self, n, clients=1):
        """``n`` bare round trips (``confirmation.ping``) from ``clients`` concurrent callers, each
        with a proxy of its own (as the gateway's threads have): (wall seconds, latencies)."""
        from nameko.standalone.rpc import ClusterRpcProxy

        from services.common.context import system_context
        times = []
        per = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
        ready = threading.Barrier(clients + 1)

        def caller(calls):
            with ClusterRpcProxy({"AMQP_URI": self.amqp}, timeout=30,
                                 context_data=system_context("bench")) as proxy:
                proxy.confirmation.ping()
                ready.wait()
                for _ in range(calls):
                    t0 = time.perf_counter()
                    proxy.confirmation.ping()
                    times.append(time.perf_counter() - t0)

        with cf.ThreadPoolExecutor(clients) as pool:
            futures = [pool.submit(caller, calls) for calls in per]
            ready.wait()
            t0 = time.perf_counter()
            for f in futures:
                f.result()
            wall = time.perf_counter() - t0
        return wall, times

    def cpu(self):
        """name -> CPU seconds used so far by each process of the system."""
        return {name: cpu_seconds(pid) for name, pid in processes(self.system).items()
                if name != "bench client"}

    # -- confirming ---------------------------------------------------------------------------------
    def confirm_level(self, units):
        latencies = []

        def one(u):
            t0 = time.perf_counter()
            self.call("POST", f"/rounds/{self.round_id}/confirmations/{u['id']}", self.token(u, 1))
            latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        with cf.ThreadPoolExecutor(self.args.concurrency) as pool:
            list(pool.map(one, units))
        return time.perf_counter() - t0, latencies

    def run(self):
        a = self.args
        print(f"sizes (fraction {a.fraction:g} of DOMAIN.md): " +
              ", ".join(f"{k} {v}" for k, v in self.sizes.items()), flush=True)
        t0 = time.perf_counter()
        self.start()
        print(f"system up in {time.perf_counter() - t0:.1f}s", flush=True)
        try:
            t0 = time.perf_counter()
            self.build()
            per = self.load_learners()
            print(f"tree and {sum(self.expected.values())} learners ({per} per institution) loaded in "
                  f"{time.perf_counter() - t0:.1f}s", flush=True)
            self.listen()
            before = self.rpc_round_trips(a.rpc_samples, a.concurrency)
            levels = [("institutions", self.institutions), ("laos", self.laos),
                      ("provinces", self.provinces), ("department", [self.department])]
            results = []
            cpu_before = self.cpu()
            for name, units in levels:
                seconds, lat = self.confirm_level(units)
                results.append((name, len(units), seconds, lat))
            self.cpu_used = {k: v - cpu_before.get(k, 0.0) for k, v in self.cpu().items()}
            after = self.rpc_round_trips(a.rpc_samples, a.concurrency)
            total = sum(len(u) for _, u in levels)
            deadline = time.monotonic() + 60
            while len(self.seen) < total and time.monotonic() < deadline:
                time.sleep(0.2)
            self.stop_listening.set()
            self.report(results, [before, after], total)
            check = self.call("GET", f"/rounds/{self.round_id}/confirmations/{self.department['id']}",
                              self.admin_token)
            assert check["counts"]["total"] == sum(self.expected.values()), "sealed counts differ from learners"
            print(f"department confirmed {check['counts']['total']} learners = the {sum(self.expected.values())} "
                  f"imported; round {self.round_id} finalized", flush=True)
        finally:
            self.stop()

    def report(self, results, rpc, total):
        """Per level and overall; the bare RPC rate at the same concurrency (the mean of the runs
        before and after confirming) is the rate the confirmations are compared with."""
        print()
        print(f"{'level':<14}{'units':>7}{'seconds':>9}{'conf/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        wall = 0.0
        for name, n, seconds, lat in results:
            wall += seconds
            print(f"{name:<14}{n:>7}{seconds:>9.2f}{n / seconds:>9.1f}{ms(pct(lat, 50))}{ms(pct(lat, 95))}"
                  f"{ms(pct(lat, 99))}")
        print(f"{'all':<14}{total:>7}{wall:>9.2f}{total / wall:>9.1f}")
        print()
        self.listener.join(5)
        print(f"agency event lag (confirmed_at -> on the agency's queue), {len(self.lags)}/{total} events:"
              f" p50 {ms(pct(self.lags, 50))} ms, p95 {ms(pct(self.lags, 95))} ms,"
              f" p99 {ms(pct(self.lags, 99))} ms, max {ms(max(self.lags) if self.lags else float('nan'))} ms")
        print(f"bare publish -> consume on the same broker ({len(self.bare)} messages): p50 {ms(pct(self.bare, 50))} ms,"
              f" p95 {ms(pct(self.bare, 95))} ms, p99 {ms(pct(self.bare, 99))} ms")
        print(f"agency event lag p99 {pct(self.lags, 99) * 1000:.1f} ms (target <= 100 ms); a bare "
              f"publish->consume p99 {pct(self.bare, 99) * 1000:.1f} ms in the same run")
        times = [t for _, lat in rpc for t in lat]
        rpc_rate = sum(len(lat) for _, lat in rpc) / sum(w for w, _ in rpc)
        clients = self.args.concurrency
        print(f"bare nameko RPC round trip (confirmation.ping, {len(times)} calls from {clients} clients):"
              f" mean {ms(statistics.mean(times))} ms, p50 {ms(pct(times, 50))} ms, p95 {ms(pct(times, 95))} ms,"
              f" {rpc_rate:.0f}/s")
        used = ", ".join(f"{name} {1000 * seconds / total:.1f}" for name, seconds in sorted(
            self.cpu_used.items(), key=lambda kv: -kv[1]) if seconds > 0)
        print(f"CPU ms per confirmation: {used}")
        rate = total / wall
        print(f"confirmations: {rate:.1f}/s vs bare RPC {rpc_rate:.0f}/s at {clients} clients: "
              f"1/{rpc_rate / rate:.1f} of it (target >= 1/3)", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fraction", type=float, default=float(os.environ.get("BENCH_FRACTION", 0.02)),
                        help="of the national sizes (default 0.02)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rpc-samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2569)
    args = parser.parse_args(argv)
    Bench(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
