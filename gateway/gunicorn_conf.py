"""gunicorn settings for the gateway (thread workers: gunicorn >= 26 has no eventlet worker)."""
import os

from gunicorn.glogging import Logger

from gateway import httperrors
from services.common import settings

# errors gunicorn answers itself come as JSON too, and no answer carries a Server
# banner (workers inherit both)
httperrors.install()

configured = settings.current()
bind = f"{configured.host}:{configured.port}"
worker_class = "gthread"
workers = configured.gateway_workers
threads = configured.gateway_threads
timeout = configured.gateway_timeout
graceful_timeout = 10
keepalive = configured.gateway_keepalive  # idle keep-alive seconds
preload_app = False  # proxies and listener threads must be made after fork
accesslog = configured.access_log or None
# gunicorn's default line without the query string: searches (?q=) may hold a child's ID number
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
loglevel = configured.log_level.lower()
max_requests = configured.gateway_max_requests

# what this instance writes lives in its state folder (LEC_STATE_DIR): two instances on one
# host with their own folders share no file; relative: to the current directory
STATE_DIR = os.path.abspath(configured.state_dir)
# gunicorn's control socket (gunicornc) in the state folder, not the one per user of
# gunicorn's default ($XDG_RUNTIME_DIR or ~/.gunicorn), which a second instance would take over
control_socket = os.path.join(STATE_DIR, "run", "gunicorn.ctl")
pidfile = os.path.join(STATE_DIR, "run", "gateway.pid")
# gunicorn writes the pid file before any hook runs
os.makedirs(os.path.dirname(pidfile), exist_ok=True)


def metrics_dir():
    """Where the workers' metrics files go: ``PROMETHEUS_MULTIPROC_DIR``, else
    ``metrics`` in the state folder."""
    return settings.current().prometheus_multiproc_dir or os.path.join(STATE_DIR, "metrics")


class LecLogger(Logger):
    """gunicorn's logger, its lines (and the application's) formatted as
    ``LEC_LOG_FORMAT`` asks, with the request's ids (services.common.logs),
    from the first line the master writes."""

    def setup(self, cfg):
        super().setup(cfg)
        from services.common import logs
        logs.configure("gateway", loggers=("gunicorn.error", "gunicorn.access"))


logger_class = LecLogger


def post_worker_init(worker):
    """Each worker's tracer, made after the fork (the exporter runs a thread of its own)."""
    from services.common import tracing
    tracing.configure("gateway")


def on_starting(server):
    """Per-worker metrics are aggregated through files in a directory emptied here
    (files of an earlier run would be counted again)."""
    import shutil
    path = metrics_dir()
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
    if settings.current().prometheus_multiproc_dir != path:
        # the workers inherit it: prometheus_client and gateway.metrics read it there
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        settings.reload()


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
