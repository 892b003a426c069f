"""Settings, read once from the environment, with local defaults.

Every service and the gateway read their settings here, so a deployment is
configured by environment variables alone (see docs/operations.md, "Configuration").
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


DEV_JWT_SECRET = "lec-development-secret-change-me-0123456789"
DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "lec-admin-2566"


def jwt_secret():
    """The current signing key of access tokens (``LEC_JWT_SECRET``)."""
    return env("LEC_JWT_SECRET", DEV_JWT_SECRET)


def jwt_key_id():
    """The id of the current key (``LEC_JWT_KEY_ID``), written into every token's
    header as ``kid``; give each new key a new id."""
    return env("LEC_JWT_KEY_ID", "1")


def jwt_previous_secret():
    """The key before the current one (``LEC_JWT_PREVIOUS_SECRET``): after a
    rotation it still verifies the tokens it signed, which end within
    ``LEC_TOKEN_TTL``; it never signs. Unset: no previous key."""
    return env("LEC_JWT_PREVIOUS_SECRET")


def jwt_previous_key_id():
    """The id the previous key had while it was current (``LEC_JWT_PREVIOUS_KEY_ID``)."""
    return env("LEC_JWT_PREVIOUS_KEY_ID")


def token_ttl():
    """Seconds an access token lives; a token made to live longer is refused."""
    return env_int("LEC_TOKEN_TTL", 900)


# -- production mode -------------------------------------------------------------------

DEVELOPMENT, PRODUCTION = "development", "production"
MIN_KEY_BYTES = 32
PLACEHOLDER = "change-me"


class SettingsError(RuntimeError):
    """A process refuses to start with these settings (the message names them)."""


def environment():
    """``LEC_ENV``: ``development`` (the default, for ``make run`` and the tests)
    or ``production`` (set in the container image and the Kubernetes manifests)."""
    value = env("LEC_ENV", DEVELOPMENT)
    if value not in (DEVELOPMENT, PRODUCTION):
        raise SettingsError(f"LEC_ENV must be {DEVELOPMENT} or {PRODUCTION}, not {value!r}")
    return value


def production():
    return environment() == PRODUCTION


def _key_problem(name, value):
    if value == DEV_JWT_SECRET:
        return f"{name} is the built-in development key"
    if PLACEHOLDER in value:
        return f"{name} is still the placeholder of the manifests"
    if len(value.encode("utf-8")) < MIN_KEY_BYTES:
        return f"{name} is shorter than {MIN_KEY_BYTES} bytes"
    return None


def _broker_problem(uri):
    from urllib.parse import unquote, urlsplit
    parts = urlsplit(uri)
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if user in ("", "guest") or password in ("", "guest"):
        return "AMQP_URI uses the broker's guest account (name a user and a password of your own)"
    if PLACEHOLDER in password:
        return "AMQP_URI still has the placeholder password of the manifests"
    return None


def production_problems():
    """What production refuses to start with, one sentence per setting: the
    development signing key or one shorter than 32 bytes (also the previous key),
    the development admin password (or a placeholder), guest broker credentials."""
    problems = [_key_problem("LEC_JWT_SECRET", jwt_secret())]
    if jwt_previous_secret():
        problems.append(_key_problem("LEC_JWT_PREVIOUS_SECRET", jwt_previous_secret()))
    admin_password = env("LEC_ADMIN_PASSWORD")
    if admin_password == DEV_ADMIN_PASSWORD:
        problems.append("LEC_ADMIN_PASSWORD is the development password")
    elif admin_password and PLACEHOLDER in admin_password:
        problems.append("LEC_ADMIN_PASSWORD is still the placeholder of the manifests")
    problems.append(_broker_problem(amqp_uri()))
    return [p for p in problems if p]


def check_production(process):
    """Called once as each process starts (every service, the gateway): in
    production (``LEC_ENV=production``) raise :class:`SettingsError` naming
    every setting that must change; in development do nothing."""
    if not production():
        return
    problems = production_problems()
    if problems:
        raise SettingsError(f"{process} refuses to start in production (LEC_ENV=production): "
                            + "; ".join(problems))


def timezone_name():
    return "Asia/Bangkok"
