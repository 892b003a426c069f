"""Run the whole system in the foreground: every nameko service and the gateway.

``python -m deploy.launcher`` (what ``make run`` does): finds or starts
RabbitMQ and PostgreSQL, migrates every database, starts the five services
(``nameko run``) and the gateway (gunicorn), loads the demo data on first
start and prints the URL and the demo logins. Ctrl-C stops everything.

The tests start the same :class:`System` with their own databases and vhost.
"""
import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from services.common import settings
from services.common.heartbeat import age, heartbeat_path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

SERVICE_CLASSES = {
    "registry": "services.registry.service:RegistryService",
    "rounds": "services.rounds.service:RoundsService",
    "enrollment": "services.enrollment.service:EnrollmentService",
    "confirmation": "services.confirmation.service:ConfirmationService",
    "reporting": "services.reporting.service:ReportingService",
}

log = logging.getLogger("lec")


def _child_setup():
    """In the child, before exec: its own process group, and SIGTERM when the
    launcher dies, so that no service outlives it (Linux)."""
    os.setsid()
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class System:
    """The services and the gateway as child processes."""

    def __init__(self, env=None, port=8000, host="127.0.0.1", log_dir=None, echo=False):
        self.env = dict(os.environ)
        self.env.update(env or {})
        # eventlet's deprecation notice would open every service log
        self.env.setdefault("PYTHONWARNINGS", "ignore")
        self.env["PORT"] = str(port)
        self.env["HOST"] = host
        self.port = port
        self.host = host
        self.url = f"http://{host}:{port}"
        self.log_dir = Path(log_dir or ROOT / ".lec" / "logs")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.echo = echo
        self.procs = {}
        self.started = {}
        # every service process keeps a heartbeat file here (see services.common.heartbeat)
        self.env.setdefault("LEC_HEARTBEAT_FILE", str(self.log_dir / "heartbeats" / "{service}.json"))

    # -- processes ----------------------------------------------------------------
    def _spawn(self, name, argv, env=None):
        beat = self.heartbeat_file(name)
        if beat is not None and name != "gateway":
            with contextlib.suppress(FileNotFoundError):
                beat.unlink()  # a file left by an earlier process of the name means nothing
        self.started[name] = time.monotonic()
        logfile = open(self.log_dir / f"{name}.log", "ab", buffering=0)
        proc = subprocess.Popen(argv, cwd=ROOT, env=dict(self.env, **(env or {})),
                                preexec_fn=_child_setup,
                                stdout=subprocess.PIPE if self.echo else logfile,
                                stderr=subprocess.STDOUT)
        if self.echo:
            threading.Thread(target=self._pump, args=(name, proc, logfile), daemon=True).start()
        self.procs[name] = proc
        return proc

    @staticmethod
    def _pump(name, proc, logfile):
        for line in iter(proc.stdout.readline, b""):
            logfile.write(line)
            sys.stdout.write(f"{name:>12} | {line.decode('utf-8', 'replace')}")
            sys.stdout.flush()

    def migrate(self):
        subprocess.run([str(BIN / "python"), "-m", "services.common.migrate"], cwd=ROOT,
                       env=self.env, check=True)

    def start_service(self, name, env=None):
        """``env``: extra variables for this start only (e.g. a crash point)."""
        return self._spawn(name, [str(BIN / "nameko"), "run", "--config",
                                  str(ROOT / "deploy" / "nameko.yml"), SERVICE_CLASSES[name]], env)

    def start_gateway(self):
        return self._spawn("gateway", [str(BIN / "gunicorn"), "-c",
                                       str(ROOT / "gateway" / "gunicorn_conf.py"), "gateway.wsgi:app"])

    def start(self, services=None):
        for name in services or SERVICE_CLASSES:
            self.start_service(name)
        self.start_gateway()

    def restart(self, name):
        self.stop_process(name)
        return self.start_gateway() if name == "gateway" else self.start_service(name)

    def kill(self, name):
        """SIGKILL: the process dies without any clean-up (a crash)."""
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_process(self, name, timeout=15):
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self):
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def dead(self):
        return {name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None}

    def heartbeat_file(self, name):
        path = heartbeat_path(name, self.env.get("LEC_HEARTBEAT_FILE", ""))
        return Path(path) if path else None

    def hung(self, max_age, grace=60):
        """Service processes alive but whose heartbeat is older than ``max_age``
        seconds (or missing ``grace`` seconds after their start): stopped,
        blocked or deadlocked. ``{name: age in seconds or None}``."""
        found = {}
        for name, proc in self.procs.items():
            path = self.heartbeat_file(name)
            if name == "gateway" or path is None or proc.poll() is not None:
                continue
            seconds = age(path)
            if seconds is None:
                if time.monotonic() - self.started.get(name, 0) > grace:
                    found[name] = None
            elif seconds > max_age:
                found[name] = seconds
        return found

    @contextlib.contextmanager
    def running(self, timeout=120):
        """Started and ready inside the block, stopped after it."""
        self.start()
        try:
            self.wait_ready(timeout=timeout)
            yield self
        finally:
            self.stop()

    def ops_headers(self):
        """What the operators' routes (/readyz, /metrics) require: the bearer
        ``LEC_OPS_TOKEN`` when it is set."""
        token = self.env.get("LEC_OPS_TOKEN")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            dead = self.dead()
            if dead:
                raise RuntimeError(f"processes exited during start: {dead}; logs in {self.log_dir}")
            try:
                resp = requests.get(self.url + "/readyz", headers=self.ops_headers(), timeout=10)
                last = resp.text
                if resp.status_code == 200:
                    return resp.json()
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(0.5)
        raise RuntimeError(f"the system was not ready within {timeout}s: {last}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the whole LEC system in the foreground.")
    configured = settings.current()
    parser.add_argument("--port", type=int, default=configured.port)
    parser.add_argument("--host", default=configured.host)
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from deploy import infra
    infra.ensure_rabbitmq()
    infra.ensure_postgres(allow_embedded=True, data_dir=ROOT / ".lec" / "pgdata")

    system = System(port=args.port, host=args.host, echo=True)
    max_heartbeat_age = configured.heartbeat_max_age
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        print("migrating databases ...", flush=True)
        system.migrate()
        system.start()
        print("starting services and gateway ...", flush=True)
        system.wait_ready(timeout=120)
        logins = []
        if not args.no_demo:
            from deploy import demo
            logins = demo.load(system.url)
        banner(system.url, logins)
        restarts = {}
        while not stopping.is_set():
            for name, code in system.dead().items():
                # like a container's restart policy: start it again, but give
                # up on a process that keeps dying
                recent = [t for t in restarts.get(name, []) if time.monotonic() - t < 60]
                if len(recent) >= 5:
                    print(f"{name} exited {len(recent) + 1} times within a minute; stopping", flush=True)
                    return 1
                restarts[name] = recent + [time.monotonic()]
                print(f"{name} exited with {code}; starting it again", flush=True)
                system.restart(name)
            for name, seconds in system.hung(max_heartbeat_age).items():
                # alive but not turning (stopped, blocked): as a liveness probe would
                silent = "no heartbeat" if seconds is None else f"no heartbeat for {seconds:.0f} s"
                print(f"{name}: {silent}; starting it again", flush=True)
                restarts[name] = restarts.get(name, []) + [time.monotonic()]
                system.restart(name)
            stopping.wait(1)
        return 0
    finally:
        print("stopping ...", flush=True)
        system.stop()


def banner(url, logins):
    lines = ["", "=" * 72, f"  LEC is running at {url}/", f"  API: {url}/api/v1   OpenAPI: {url}/api/v1/openapi.json",
             "", "  Logins (username / password / what it is):"]
    for username, password, what in logins:
        lines.append(f"    {username:<22} {password:<16} {what}")
    lines += ["", "  Ctrl-C stops everything.", "=" * 72, ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
