"""gunicorn settings for the gateway (thread workers: gunicorn >= 26 has no eventlet worker)."""
import os

from gateway import httperrors

# errors gunicorn answers itself come as JSON too, and no answer carries a Server
# banner (workers inherit both)
httperrors.install()

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("LEC_GATEWAY_WORKERS", "2"))
threads = int(os.environ.get("LEC_GATEWAY_THREADS", "8"))
timeout = int(os.environ.get("LEC_GATEWAY_TIMEOUT", "600"))
graceful_timeout = 10
keepalive = int(os.environ.get("LEC_GATEWAY_KEEPALIVE", "30"))  # idle keep-alive seconds
preload_app = False  # proxies and listener threads must be made after fork
accesslog = os.environ.get("LEC_ACCESS_LOG", "-") or None
# gunicorn's default line without the query string: searches (?q=) may hold a child's ID number
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("LEC_LOG_LEVEL", "info").lower()
max_requests = int(os.environ.get("LEC_GATEWAY_MAX_REQUESTS", "0"))


def on_starting(server):
    """Per-worker metrics are aggregated through files in a fresh directory."""
    import shutil
    import tempfile
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not path:
        path = tempfile.mkdtemp(prefix="lec-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    else:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
