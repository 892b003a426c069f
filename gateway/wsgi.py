"""gunicorn entry point: ``gunicorn -c gateway/gunicorn_conf.py gateway.wsgi:app``.

The app (and its RPC proxies and event listener) is built in each worker
after fork."""
from gateway.app import create_app

app = create_app()
