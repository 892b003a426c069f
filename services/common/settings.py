"""Settings, read once from the environment, with local defaults.

Every service and the gateway read their settings here, so a deployment is
configured by environment variables alone (see README.md, "Configuration").
"""
import os

SERVICES = ("registry", "rounds", "enrollment", "confirmation", "reporting")

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_int(name, default):
    return int(env(name, default))


def env_float(name, default):
    return float(env(name, default))


def amqp_uri():
    return env("AMQP_URI", DEFAULT_AMQP_URI)


def db_prefix():
    """Prefix of the per-service database names (``lec_registry`` ...)."""
    return env("LEC_DB_PREFIX", "lec_")


def database_url(service):
    """The database URL of one service.

    ``<SERVICE>_DB_URL`` wins (for example ``REGISTRY_DB_URL``); otherwise the
    database ``<LEC_DB_PREFIX><service>`` on the server ``LEC_PG_URL``.
    """
    explicit = env(f"{service.upper()}_DB_URL")
    if explicit:
        return normalise_db_url(explicit)
    return with_database(env("LEC_PG_URL", DEFAULT_PG_URL), f"{db_prefix()}{service}")


def with_database(server_url, name):
    """The URL of database ``name`` on the server of ``server_url`` (TCP or a
    Unix socket given as ``?host=/path``)."""
    from sqlalchemy.engine import make_url
    url = make_url(normalise_db_url(server_url.rstrip("/") if "?" not in server_url else server_url))
    return url.set(database=name).render_as_string(hide_password=False)


def normalise_db_url(url):
    """Use the psycopg2 driver (cooperative under eventlet) for postgres URLs."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme):]
    return url


def rpc_timeout():
    """Seconds any RPC may take before the caller gives up."""
    return env_float("LEC_RPC_TIMEOUT", 15)


def jwt_secret():
    return env("LEC_JWT_SECRET", "lec-development-secret-change-me-0123456789")


def token_ttl():
    return env_int("LEC_TOKEN_TTL", 900)


def timezone_name():
    return "Asia/Bangkok"
