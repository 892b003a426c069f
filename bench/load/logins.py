"""The morning's sign-ins: officers of the whole country logging in through the gateway.

    python -m bench.load.logins                      # 300 officers, a system of its own
    python -m bench.load.logins --officers 600 --clients 16
    python -m bench.load.run --logins 300            # after the deadline-day phases, same system
    python -m bench.load.logins --rows               # argon2 cost of OWASP's rows, no system

30,000 officers signing in within an hour is 8.3 sign-ins a second. ``--officers``
accounts are made (in one school), then two phases run through the gateway:

1. **paced**: sign-ins arrive at 8.3/s (open loop: the next one starts on time whether
   or not the one before has answered), for ``--seconds``. Each officer then keeps
   working, and ``--returning`` of them come back within the phase: their session is
   still alive, so they renew it (``POST /auth/renew``, as the portal does while its
   officer is active) instead of signing in again; one whose token has ended signs in.
2. **as fast as possible**: ``--clients`` threads sign in the officers not yet signed
   in, each as soon as its previous sign-in answered.

Each phase prints the sign-ins a second, their p50/p95, and the CPU each process spent
per sign-in: the gateway's workers, the registry, the PostgreSQL backends of the bench's
own databases and the RabbitMQ server (the whole server: other users of the machine's
broker count too). The last line is the ratio of the most sign-ins a second to the 8.3/s
the morning needs (from the as-fast-as-possible phase; the paced phase says whether it kept
the pace).

Every sign-in comes from one address (127.0.0.1). Login throttling
(services/registry/throttle.py) counts failures only: a storm of right passwords
leaves the address's count at zero, and as long as fewer than
``LEC_LOGIN_ADDRESS_FREE_FAILURES`` (30) sign-ins from it are under way at once none is
refused. A refusal (``429``) would be counted and printed with the errors.
"""
import argparse
import os
import concurrent.futures
import queue
import random
import resource
import statistics
import sys
import threading
import time

import requests

from bench.common import ADMIN, Api, PASSWORD, bench_env, cpu_seconds, by_command, processes, running_system
from services.common import settings

NEEDED = 30_000 / 3600  # sign-ins a second: 30,000 officers in an hour
RENEW_MARGIN = 60  # seconds: a token with less left than this is not renewed but replaced by a sign-in


def say(*args):
    print(*args, flush=True)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- the accounts ---------------------------------------------------------------------------

def make_officers(url, count, tag, threads=8):
    """``count`` accounts in one new school (under a new province and LAO): their usernames."""
    admin, user = Api(url).login(*ADMIN)
    province = admin.call("POST", "/org-units", 201, json={
        "code": f"G{tag}", "name": "จังหวัดเช้า", "type": "province", "parent_id": user["org_unit_id"]})
    lao = admin.call("POST", "/org-units", 201, json={
        "code": f"G{tag}L", "name": "เทศบาลเช้า", "type": "lao", "parent_id": province["id"]})
    school = admin.call("POST", "/org-units", 201, json={
        "code": f"G{tag}S", "name": "โรงเรียนเช้า", "type": "school", "parent_id": lao["id"]})
    names = [f"bench.morning{n}.{tag}" for n in range(count)]
    token, local = admin.session.headers["Authorization"].split(" ", 1)[1], threading.local()

    def make(name):
        if not hasattr(local, "api"):
            local.api = Api(url, token)
        local.api.call("POST", "/users", 201, json={"username": name, "password": PASSWORD,
                                                     "org_unit_id": school["id"]})

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, names))
    return names


# -- the officers -------------------------------------------------------------------------

class Morning:
    """The officers' sessions and what their sign-ins and renewals measured."""

    def __init__(self, url, names):
        self.api = url + "/api/v1"
        self.names = names
        self.tokens = {}  # name -> (token, monotonic time it ends)
        self.lock = threading.Lock()
        self.local = threading.local()
        self.reset()

    def reset(self):
        self.timings = {"login": [], "renew": []}
        self.answered = []  # perf_counter() at which each successful sign-in answered
        self.late = []  # seconds a paced request started after its time
        self.errors = {}

    def http(self):
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def _record(self, kind, started, resp):
        now = time.perf_counter()
        with self.lock:
            if resp is not None and resp.status_code < 400:
                self.timings[kind].append(now - started)
                if kind == "login":
                    self.answered.append(now)
            else:
                key = f"{kind} {resp.status_code if resp is not None else 'no answer'}"
                self.errors[key] = self.errors.get(key, 0) + 1

    def _keep(self, name, resp):
        if resp is not None and resp.status_code == 200:
            body = resp.json()
            with self.lock:
                self.tokens[name] = (body["access_token"], time.monotonic() + body["expires_in"])

    def login(self, name):
        started, resp = time.perf_counter(), None
        try:
            resp = self.http().post(f"{self.api}/auth/token", json={"username": name, "password": PASSWORD},
                                    timeout=60)
        finally:
            self._record("login", started, resp)
        self._keep(name, resp)

    def visit(self, name):
        """An officer comes back: a live session is renewed, an ended one signs in again."""
        with self.lock:
            token, ends = self.tokens.get(name, (None, 0.0))
        if token is None or ends - time.monotonic() < RENEW_MARGIN:
            return self.login(name)
        started, resp = time.perf_counter(), None
        try:
            resp = self.http().post(f"{self.api}/auth/renew", headers={"Authorization": f"Bearer {token}"},
                                    timeout=60)
        finally:
            self._record("renew", started, resp)
        self._keep(name, resp)


def paced(morning, names, seconds, rate, returning, workers, rng):
    """Sign-ins of ``names`` at ``rate`` a second for ``seconds``, and the returns of
    ``returning`` of them; returns the names signed in."""
    signing_in = names[:max(1, int(seconds * rate))]
    plan = [(i / rate, morning.login, name) for i, name in enumerate(signing_in)]
    for when, _, name in list(plan):
        if rng.random() < returning and when + 2 < seconds:
            plan.append((rng.uniform(when + 2, seconds), morning.visit, name))
    plan.sort(key=lambda p: p[0])
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        done = []
        for when, act, name in plan:
            wait = start + when - time.perf_counter()
            if wait > 0:
                time.sleep(wait)

            def run(act=act, name=name, when=when):
                morning.late.append(time.perf_counter() - start - when)
                act(name)
            done.append(pool.submit(run))
        concurrent.futures.wait(done)
    return signing_in, time.perf_counter() - start


def flat_out(morning, names, clients, seconds):
    """``clients`` threads sign in ``names``, each one after the other, for at most ``seconds``."""
    todo = queue.Queue()
    for name in names:
        todo.put(name)
    start = time.perf_counter()
    deadline = start + seconds

    def client():
        while time.perf_counter() < deadline:
            try:
                name = todo.get_nowait()
            except queue.Empty:
                return
            morning.login(name)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


# -- CPU -------------------------------------------------------------------------------------

def backends(db_prefix):
    """pids of the PostgreSQL backends connected to the databases ``<db_prefix>*``."""
    from sqlalchemy import create_engine, text
    engine = create_engine(settings.with_database(settings.current().pg_url, "postgres"))
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname LIKE :p"), {"p": db_prefix + "%"})]
    finally:
        engine.dispose()


def cpu_now(system, db_prefix):
    """(label, pid) -> CPU seconds so far, of the processes a sign-in goes through."""
    found = {}
    for name, pid in processes(system).items():
        if name.startswith("gateway worker") or name in ("registry", "bench client"):
            found[("gateway" if name.startswith("gateway") else name, pid)] = cpu_seconds(pid)
    for pid in backends(db_prefix):
        found[("postgres (bench databases)", pid)] = cpu_seconds(pid)
    for pid in by_command("beam.smp"):
        found[("rabbitmq (whole server)", pid)] = cpu_seconds(pid)
    return found


def cpu_spent(before, after):
    spent = {}
    for key, seconds in after.items():
        spent[key[0]] = spent.get(key[0], 0.0) + seconds - before.get(key, 0.0)
    return spent


def report(title, morning, elapsed, spent):
    logins, renews = morning.timings["login"], morning.timings["renew"]
    rate = len(logins) / elapsed if elapsed else 0.0
    say(f"\n{title}")
    say(f"   {'request':<8} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for kind, t in (("login", logins), ("renew", renews)):
        if t:
            say(f"   {kind:<8} {len(t):>7,} {len(t) / elapsed:>7.1f} {quantile(t, .5) * 1000:>8.1f} "
                f"{quantile(t, .95) * 1000:>8.1f}")
    if morning.late:
        say(f"   started late: p50 {quantile(morning.late, .5) * 1000:.0f} ms, "
            f"p95 {quantile(morning.late, .95) * 1000:.0f} ms, max {max(morning.late) * 1000:.0f} ms "
            "(the open loop kept its pace when these stay small)")
    say(f"   errors: {morning.errors or 'none'}")
    say("   CPU per sign-in (renewals included in the phase's CPU):")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        say(f"   {name:<28} {seconds:>6.1f} s {seconds * 1000 / max(1, len(logins)):>7.1f} ms")
    return rate


def storm(system, db_prefix, officers=300, seconds=20.0, clients=8, returning=0.3, fast_seconds=120.0):
    """Both phases on a running system; returns (sign-ins a second at most, errors)."""
    tag = f"{int(time.time()) % 100000}"
    say(f"\nlogin storm: making {officers} officers' accounts ...")
    names = make_officers(system.url, officers, tag)
    configured = settings.current()
    say(f"   argon2id m={configured.argon2_memory_kib} t={configured.argon2_time_cost} "
        f"p={configured.argon2_parallelism}; {officers} officers, all from one address; the machine's "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    morning, rng = Morning(system.url, names), random.Random(7)
    before = cpu_now(system, db_prefix)
    seconds = min(seconds, officers / 2 / NEEDED)  # half the officers are left for the second phase
    signed_in, elapsed = paced(morning, names, seconds, NEEDED, returning, max(16, clients * 2), rng)
    report(f"paced: sign-ins at {NEEDED:.1f}/s (30,000 officers an hour) for {seconds:.0f} s, "
                        f"{returning:.0%} of them back within the phase (their session renewed)",
                        morning, elapsed, cpu_spent(before, cpu_now(system, db_prefix)))
    errors, answered = dict(morning.errors), sorted(morning.answered)
    answered_rate = (len(answered) - 1) / (answered[-1] - answered[0]) if len(answered) > 2 else 0.0
    rest = [n for n in names if n not in set(signed_in)]
    morning.reset()
    before = cpu_now(system, db_prefix)
    elapsed = flat_out(morning, rest, clients, fast_seconds)
    fast_spent, fast_count = cpu_spent(before, cpu_now(system, db_prefix)), len(morning.timings["login"])
    fast = report(f"as fast as possible: {clients} clients sign in the other {len(rest)} officers",
                  morning, elapsed, fast_spent)
    for k, v in morning.errors.items():
        errors[k] = errors.get(k, 0) + v
    kept = answered_rate >= 0.95 * NEEDED
    say(f"\npaced phase: sign-ins answered at {answered_rate:.1f}/s from the first answer to the last: "
        + ("kept the pace of 30,000 officers an hour" if kept else "FELL BEHIND the pace of 30,000 officers an hour"))
    new = sum(verify_cost(configured.argon2_memory_kib, configured.argon2_time_cost,
                          configured.argon2_parallelism, 10)[:2])
    old = sum(verify_cost(65536, 3, 4, 10)[:2])
    say(f"\nbaseline, same run: one argon2 verification alone costs {new:.1f} ms CPU with these "
        f"parameters, {old:.1f} ms with argon2-cffi's default (m=65536 t=3 p=4) used before")
    own = ("gateway", "registry", "postgres (bench databases)")
    per_login = sum(fast_spent.get(k, 0.0) for k in own) * 1000 / max(1, fast_count)
    say(f"CPU per sign-in of the gateway, the registry and PostgreSQL: {per_login:.1f} ms: one free core "
        f"carries {1000 / max(per_login, 0.1):.0f} sign-ins/s (the broker, shared with the machine's "
        "other users, is left out)")
    say(f"the machine's load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    say(f"\nlogins: {fast:.1f}/s at most, needed {NEEDED:.1f}/s for 30,000 officers an hour: "
        f"{fast / NEEDED:.2f}x")
    return fast, errors


# -- argon2's rows ------------------------------------------------------------------------

def verify_cost(memory_kib, time_cost, parallelism, repeat):
    """(user CPU ms, system CPU ms, wall ms p50) of one argon2id verification in this process."""
    from argon2 import PasswordHasher, Type
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID)
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)
    user, system, wall = [], [], []
    for _ in range(repeat):
        r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        hasher.verify(stored, PASSWORD)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        wall.append(time.perf_counter() - w0)
        user.append(r1.ru_utime - r0.ru_utime)
        system.append(r1.ru_stime - r0.ru_stime)
    return statistics.mean(user) * 1000, statistics.mean(system) * 1000, statistics.median(wall) * 1000


def rows(repeat=40):
    """CPU and wall time of one verification with each OWASP row (and argon2-cffi's default)."""
    candidates = [(m, t, 1) for m, t in settings.ARGON2_OWASP_ROWS] + [(65536, 3, 4)]
    say(f"argon2id verification, {repeat} each, this process alone ({time.strftime('%Y-%m-%d')})")
    say(f"   {'memory KiB':>10} {'t':>2} {'p':>2} {'CPU ms':>8} {'user ms':>8} {'sys ms':>7} {'wall ms':>8}")
    for m, t, p in candidates:
        u, s, wall = verify_cost(m, t, p, repeat)
        note = "  (argon2-cffi's default, RFC 9106 low-memory)" if p != 1 else ""
        say(f"   {m:>10} {t:>2} {p:>2} {u + s:>8.1f} {u:>8.1f} {s:>7.1f} {wall:>8.1f}{note}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=300, help="accounts signing in")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the paced phase")
    parser.add_argument("--clients", type=int, default=8, help="threads of the as-fast-as-possible phase")
    parser.add_argument("--returning", type=float, default=0.3,
                        help="share of the paced phase's officers who come back within it")
    parser.add_argument("--rows", action="store_true", help="only measure argon2 with OWASP's rows")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases afterwards")
    args = parser.parse_args(argv)
    if args.rows:
        rows()
        return 0
    env = bench_env(vhost="lec_benchlogins", db_prefix="lec_benchlogins_")
    with running_system(env, "bench-logins-logs", keep=args.keep) as system:
        _, errors = storm(system, env["LEC_DB_PREFIX"], args.officers, args.seconds, args.clients, args.returning)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
