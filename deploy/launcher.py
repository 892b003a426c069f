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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class StatePaths:
    """Where one running instance writes: everything under one folder
    (``LEC_STATE_DIR``, default ``.lec`` in the checkout), so that two instances
    on one host, each with its own folder and port, share no file."""
    root: Path
    logs: Path

    @classmethod
    def at(cls, root, logs=None):
        root = Path(root).resolve()
        return cls(root=root, logs=Path(logs).resolve() if logs else root / "logs")

    @classmethod
    def configured(cls, configured=None):
        """The folder of ``LEC_STATE_DIR``; a relative one is taken from the checkout."""
        configured = configured or settings.current()
        folder = Path(configured.state_dir)
        return cls.at(folder if folder.is_absolute() else ROOT / folder)

    @property
    def heartbeats(self):
        """The ``LEC_HEARTBEAT_FILE`` template of the services (``{service}`` replaced)."""
        return self.root / "heartbeats" / "{service}.json"

    @property
    def run(self):
        return self.root / "run"

    def pid_file(self, name):
        return self.run / f"{name}.pid"

    @property
    def control_socket(self):
        """gunicorn's control socket (gateway/gunicorn_conf.py puts it here)."""
        return self.run / "gunicorn.ctl"

    @property
    def metrics(self):
        """The gateway workers' Prometheus files, unless ``PROMETHEUS_MULTIPROC_DIR`` is set."""
        return self.root / "metrics"

    @property
    def pgdata(self):
        """Data of the embedded PostgreSQL, when no server is installed."""
        return self.root / "pgdata"

    def all(self):
        return [self.logs, self.heartbeats, self.run, self.control_socket, self.metrics,
                self.pgdata, self.pid_file("launcher")]


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

    def __init__(self, env=None, port=8000, host="127.0.0.1", log_dir=None, echo=False,
                 state=None):
        """``state``: the :class:`StatePaths` of this instance; without it, the folder
        of ``log_dir`` when given (each test system keeps its own), else ``LEC_STATE_DIR``."""
        self.env = dict(os.environ)
        self.env.update(env or {})
        # eventlet's deprecation notice would open every service log
        self.env.setdefault("PYTHONWARNINGS", "ignore")
        self.env["PORT"] = str(port)
        self.env["HOST"] = host
        self.port = port
        self.host = host
        self.url = f"http://{host}:{port}"
        if state is None:
            state = StatePaths.at(log_dir, logs=log_dir) if log_dir else StatePaths.configured()
        self.state = state
        self.log_dir = state.logs
        self.log_dir.mkdir(parents=True, exist_ok=True)
        state.run.mkdir(parents=True, exist_ok=True)
        self.echo = echo
        self.procs = {}
        self.started = {}
        # the children write under the same folder: gunicorn's control socket, pid and
        # metrics files (gateway/gunicorn_conf.py)
        self.env["LEC_STATE_DIR"] = str(state.root)
        # every service process keeps a heartbeat file here (see services.common.heartbeat)
        self.env.setdefault("LEC_HEARTBEAT_FILE", str(state.heartbeats))
        # processes sharing this host cannot share a port: each service process serves its
        # /livez, /readyz and /metrics on a free one, recorded in its heartbeat file (ops_port)
        self.env.setdefault("LEC_OPS_PORT", "0")

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
        if name != "gateway":  # gunicorn writes its own (run/gateway.pid)
            self.state.pid_file(name).write_text(f"{proc.pid}\n")
        return proc

    def _forget(self, name):
        if name != "gateway":
            with contextlib.suppress(FileNotFoundError):
                self.state.pid_file(name).unlink()

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
        self._forget(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_process(self, name, timeout=15):
        proc = self.procs.pop(name, None)
        self._forget(name)
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
            self._forget(name)
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
                # the gateway and the broker are ready, and (verbose) every service answers
                resp = requests.get(self.url + "/readyz", params={"verbose": "1"},
                                    headers=self.ops_headers(), timeout=10)
                last = resp.text
                if resp.status_code == 200 and resp.json().get("system") == "ready":
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

    state = StatePaths.configured(configured)
    state.run.mkdir(parents=True, exist_ok=True)
    launcher_pid = state.pid_file("launcher")
    other = _running_pid(launcher_pid)
    if other:
        print(f"another launcher (pid {other}) uses the state folder {state.root}: "
              "give this one its own LEC_STATE_DIR (and PORT)", flush=True)
        return 1
    launcher_pid.write_text(f"{os.getpid()}\n")

    from deploy import infra
    infra.ensure_rabbitmq()
    infra.ensure_postgres(allow_embedded=True, data_dir=state.pgdata)

    system = System(port=args.port, host=args.host, echo=True, state=state)
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
        admin = admin_login(settings.current())
        logins = [admin]
        if not args.no_demo:
            from deploy import demo
            logins += [login for login in demo.load(system.url) if login[0] != admin[0]]
        banner(browse_url(args.host, args.port), logins, state=state, listen=f"{args.host}:{args.port}")
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
        with contextlib.suppress(FileNotFoundError):
            launcher_pid.unlink()


def _running_pid(path):
    """The pid in ``path`` when that process still runs (a launcher left by a crash does not)."""
    try:
        pid = int(Path(path).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() else None


def browse_url(host, port):
    """The address to open: an address that listens on every interface (0.0.0.0,
    ::, empty) is not one to browse to, so this host's loopback stands in for it."""
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def admin_login(configured):
    """The first account as this process configured it (the registry creates it
    from the same settings on an empty database): the password is shown only
    when it is the documented development one."""
    username = configured.admin_username or settings.DEV_ADMIN_USERNAME
    if configured.admin_password:
        return username, "(LEC_ADMIN_PASSWORD)", "department (the whole country)"
    return username, settings.DEV_ADMIN_PASSWORD, "department (the whole country; development password)"


def banner(url, logins, state=None, listen=None):
    lines = ["", "=" * 72, f"  LEC is running at {url}/", f"  API: {url}/api/v1   OpenAPI: {url}/api/v1/openapi.json"]
    if listen:
        lines.append(f"  Listening on {listen}")
    if state is not None:
        lines.append(f"  State (logs, heartbeats, pid files, sockets): {state.root}")
    lines += ["", "  Logins (username / password / what it is):"]
    for username, password, what in logins:
        lines.append(f"    {username:<22} {password:<20} {what}")
    lines += ["", "  Ctrl-C stops everything.", "=" * 72, ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
