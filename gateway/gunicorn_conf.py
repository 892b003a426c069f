"""gunicorn settings for the gateway (thread workers: gunicorn >= 26 has no eventlet worker)."""
import os

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


def on_starting(server):
    """Per-worker metrics are aggregated through files in a fresh directory."""
    import shutil
    import tempfile
    path = settings.current().prometheus_multiproc_dir
    if not path:
        path = tempfile.mkdtemp(prefix="lec-metrics-")
        # the workers inherit it: prometheus_client and gateway.metrics read it there
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        settings.reload()
    else:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
