"""Settings, read once from the environment, with local defaults.

Every service, the gateway and the launcher are configured by environment
variables alone. :meth:`Settings.from_env` is the one place that reads them: it
turns each variable into one typed field of a frozen :class:`Settings`, and
:func:`current` reads the process's environment once and keeps the result. The
README's "Configuration" table lists every variable.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional

SERVICES = ("registry", "rounds", "enrollment", "confirmation", "reporting")

DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432"

DEV_JWT_SECRET = "lec-development-secret-change-me-0123456789"
DEV_ADMIN_USERNAME = "admin"
DEV_ADMIN_PASSWORD = "lec-admin-2566"

DEVELOPMENT, PRODUCTION = "development", "production"
MIN_KEY_BYTES = 32
PLACEHOLDER = "change-me"


class SettingsError(RuntimeError):
    """A process refuses to start with these settings (the message names them)."""


def _text(value: str) -> str:
    return value


def _environment(value: str) -> str:
    if value not in (DEVELOPMENT, PRODUCTION):
        raise ValueError(f"must be {DEVELOPMENT} or {PRODUCTION}")
    return value


def _log_format(value: str) -> str:
    if value not in ("json", "text"):
        raise ValueError("must be json or text")
    return value


def _ratio(value: str) -> float:
    ratio = float(value)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError("must be a number from 0 to 1")
    return ratio


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError("must be a whole number") from None
    if number < 1:
        raise ValueError("must be a whole number of 1 or more")
    return number


def _var(name: str, default: Any, parse: Callable[[str], Any] = _text, *,
         empty_is_unset: bool = True) -> Any:
    """A field read from the variable ``name``: unset (or empty, unless
    ``empty_is_unset`` is false) gives ``default``; otherwise ``parse(value)``."""
    return field(default=default,
                 metadata={"env": name, "parse": parse, "empty_is_unset": empty_is_unset})


def _db_url_variable(service: str) -> str:
    return f"{service.upper()}_DB_URL"


@dataclass(frozen=True)
class Settings:
    """Every setting of a process, one field per environment variable."""

    # broker and databases
    amqp_uri: str = _var("AMQP_URI", DEFAULT_AMQP_URI)
    pg_url: str = _var("LEC_PG_URL", DEFAULT_PG_URL)
    db_prefix: str = _var("LEC_DB_PREFIX", "lec_")
    bench_id: str = _var("LEC_BENCH_ID", "")
    # <SERVICE>_DB_URL of the services that have one (see database_url)
    db_urls: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}),
                                       metadata={"env": tuple(_db_url_variable(s) for s in SERVICES)})
    db_pool_size: int = _var("LEC_DB_POOL_SIZE", 10, int)
    migration_lock_timeout: float = _var("LEC_MIGRATION_LOCK_TIMEOUT", 30.0, float)
    rpc_timeout: float = _var("LEC_RPC_TIMEOUT", 15.0, float)
    environment: str = _var("LEC_ENV", DEVELOPMENT, _environment)
    log_level: str = _var("LEC_LOG_LEVEL", "INFO")
    # "json" (one object a line) or "text"; unset: json in production, text in development
    log_format: Optional[str] = _var("LEC_LOG_FORMAT", None, _log_format)
    # traces (services/common/tracing.py): OTLP/HTTP collector, unset: spans are made, not exported
    otel_endpoint: Optional[str] = _var("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    # share of new traces kept; unset: 1.0 in development, 0.05 in production
    trace_sample_ratio: Optional[float] = _var("LEC_TRACE_SAMPLE_RATIO", None, _ratio)
    max_workers: int = _var("LEC_MAX_WORKERS", 10, int)
    prefetch_count: int = _var("LEC_PREFETCH_COUNT", 10, int)

    # tokens, accounts, sign-in
    jwt_secret: str = _var("LEC_JWT_SECRET", DEV_JWT_SECRET)
    jwt_key_id: str = _var("LEC_JWT_KEY_ID", "1")
    jwt_previous_secret: Optional[str] = _var("LEC_JWT_PREVIOUS_SECRET", None)
    jwt_previous_key_id: Optional[str] = _var("LEC_JWT_PREVIOUS_KEY_ID", None)
    token_ttl: int = _var("LEC_TOKEN_TTL", 900, int)
    token_state_ttl: float = _var("LEC_TOKEN_STATE_TTL", 60.0, float)
    admin_username: Optional[str] = _var("LEC_ADMIN_USERNAME", None)
    admin_password: Optional[str] = _var("LEC_ADMIN_PASSWORD", None)
    department_code: str = _var("LEC_DEPARTMENT_CODE", "DLA")
    department_name: str = _var("LEC_DEPARTMENT_NAME", "กรมส่งเสริมการปกครองท้องถิ่น")
    password_min_score: int = _var("LEC_PASSWORD_MIN_SCORE", 3, int)
    # argon2id of passwords and agency secrets (services/registry/passwords.py); a hash made
    # with other parameters is re-encoded at its next successful sign-in
    argon2_memory_kib: int = _var("LEC_ARGON2_MEMORY_KIB", 7168, _positive_int)
    argon2_time_cost: int = _var("LEC_ARGON2_TIME_COST", 5, _positive_int)
    argon2_parallelism: int = _var("LEC_ARGON2_PARALLELISM", 1, _positive_int)
    login_free_failures: int = _var("LEC_LOGIN_FREE_FAILURES", 5, int)
    login_address_free_failures: int = _var("LEC_LOGIN_ADDRESS_FREE_FAILURES", 30, int)
    login_base_delay: float = _var("LEC_LOGIN_BASE_DELAY", 1.0, float)
    login_max_delay: float = _var("LEC_LOGIN_MAX_DELAY", 900.0, float)
    login_window_seconds: float = _var("LEC_LOGIN_WINDOW_SECONDS", 3600.0, float)
    login_lock_after: int = _var("LEC_LOGIN_LOCK_AFTER", 50, int)
    login_prune_interval: float = _var("LEC_LOGIN_PRUNE_INTERVAL", 3600.0, float)
    trusted_proxies: int = _var("LEC_TRUSTED_PROXIES", 0, int)
    ops_token: str = _var("LEC_OPS_TOKEN", "")
    ready_cache_seconds: float = _var("LEC_READY_CACHE_SECONDS", 5.0, float)

    # registry documents
    document_max_bytes: int = _var("LEC_DOCUMENT_MAX_BYTES", 5 * 1024 * 1024, int)
    documents_per_unit: int = _var("LEC_DOCUMENTS_PER_UNIT", 20, int)

    # events, heartbeat, units
    outbox_poll: float = _var("LEC_OUTBOX_POLL", 1.0, float)
    outbox_batch: int = _var("LEC_OUTBOX_BATCH", 1000, int)
    outbox_retention_hours: float = _var("LEC_OUTBOX_RETENTION_HOURS", 72.0, float)
    event_retry_interval: float = _var("LEC_EVENT_RETRY_INTERVAL", 5.0, float)
    heartbeat_file: Optional[str] = _var("LEC_HEARTBEAT_FILE", None)
    heartbeat_interval: float = _var("LEC_HEARTBEAT_INTERVAL", 5.0, float)
    heartbeat_max_age: float = _var("LEC_HEARTBEAT_MAX_AGE", 60.0, float)
    ops_host: str = _var("LEC_OPS_HOST", "0.0.0.0")
    ops_port: int = _var("LEC_OPS_PORT", 8001, int)
    unit_cache_ttl: float = _var("LEC_UNIT_CACHE_TTL", 300.0, float)
    unit_cache_size: int = _var("LEC_UNIT_CACHE_SIZE", 100_000, int)
    round_cache_ttl: float = _var("LEC_ROUND_CACHE_TTL", 60.0, float)

    # service timers
    rounds_tick: float = _var("LEC_ROUNDS_TICK", 1.0, float)
    reminders_interval: float = _var("LEC_REMINDERS_INTERVAL", 60.0, float)

    # enrollment
    duplicate_probe_limit: int = _var("LEC_DUPLICATE_PROBE_LIMIT", 30, int)
    duplicate_probe_window: int = _var("LEC_DUPLICATE_PROBE_WINDOW", 600, int)
    seal_lock_timeout: float = _var("LEC_SEAL_LOCK_TIMEOUT", 10.0, float)
    checks_interval: float = _var("LEC_CHECKS_INTERVAL", 2.0, float)
    checks_tick_seconds: float = _var("LEC_CHECKS_TICK_SECONDS", 1.5, float)
    checks_settle: float = _var("LEC_CHECKS_SETTLE", 3.0, float)
    checks_max_wait: float = _var("LEC_CHECKS_MAX_WAIT", 60.0, float)
    checks_scope_ttl: float = _var("LEC_CHECKS_SCOPE_TTL", 600.0, float)
    checks_request_seconds: float = _var("LEC_CHECKS_REQUEST_SECONDS", 0.5, float)

    # confirmation
    confirm_reconcile_interval: float = _var("LEC_CONFIRM_RECONCILE_INTERVAL", 5.0, float)
    confirm_verify_interval: float = _var("LEC_CONFIRM_VERIFY_INTERVAL", 60.0, float)
    # unset: 2 * rpc_timeout + 5, longer than any RPC of a saga (from_env works it out)
    confirm_saga_timeout: float = _var("LEC_CONFIRM_SAGA_TIMEOUT", 2 * 15.0 + 5, float)
    crashpoint: Optional[str] = _var("LEC_CRASHPOINT", None)

    # gateway requests and imports
    max_body: int = _var("LEC_MAX_BODY", 1024 * 1024, int)
    max_upload: int = _var("LEC_MAX_UPLOAD", 512 * 1024 * 1024, int)
    json_max_depth: int = _var("LEC_JSON_MAX_DEPTH", 32, int)
    import_rpc_timeout: float = _var("LEC_IMPORT_RPC_TIMEOUT", 120.0, float)
    import_senders: int = _var("LEC_IMPORT_SENDERS", 8, int)
    import_batch: int = _var("LEC_IMPORT_BATCH", 5000, int)
    import_batch_bytes: int = _var("LEC_IMPORT_BATCH_BYTES", 4 << 20, int)
    import_max_reported: int = _var("LEC_IMPORT_MAX_REPORTED", 10_000, int)
    import_parallel: int = _var("LEC_IMPORT_PARALLEL", 2, int)
    import_max_rows: int = _var("LEC_IMPORT_MAX_ROWS", 1_048_576, int)
    import_max_columns: int = _var("LEC_IMPORT_MAX_COLUMNS", 256, int)
    import_max_cell_chars: int = _var("LEC_IMPORT_MAX_CELL_CHARS", 32_767, int)
    import_max_row_bytes: int = _var("LEC_IMPORT_MAX_ROW_BYTES", 1 << 20, int)
    xlsx_max_shared_strings: int = _var("LEC_XLSX_MAX_SHARED_STRINGS", 500_000, int)
    xlsx_max_shared_chars: int = _var("LEC_XLSX_MAX_SHARED_CHARS", 16 << 20, int)
    xlsx_max_xml_bytes: int = _var("LEC_XLSX_MAX_XML_BYTES", 1 << 30, int)
    xlsx_max_seconds: float = _var("LEC_XLSX_MAX_SECONDS", 120.0, float)

    # the gateway's process (gunicorn) and the launcher
    host: str = _var("HOST", "127.0.0.1")
    port: int = _var("PORT", 8000, int)
    gateway_workers: int = _var("LEC_GATEWAY_WORKERS", 2, int)
    gateway_threads: int = _var("LEC_GATEWAY_THREADS", 8, int)
    gateway_timeout: int = _var("LEC_GATEWAY_TIMEOUT", 600, int)
    gateway_keepalive: int = _var("LEC_GATEWAY_KEEPALIVE", 30, int)
    gateway_max_requests: int = _var("LEC_GATEWAY_MAX_REQUESTS", 0, int)
    # "-": standard output; set but empty: no access log
    access_log: Optional[str] = _var("LEC_ACCESS_LOG", "-", empty_is_unset=False)
    prometheus_multiproc_dir: Optional[str] = _var("PROMETHEUS_MULTIPROC_DIR", None)
    # everything a running instance writes (logs, heartbeats, pid files, gunicorn's control
    # socket, metrics files, embedded PostgreSQL data); relative: to the checkout (make run)
    state_dir: str = _var("LEC_STATE_DIR", ".lec")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """The settings ``environ`` describes; the one function that reads an
        environment. A value that does not parse raises :class:`SettingsError`
        naming its variable."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata.get("env")
            if not isinstance(name, str):
                continue
            raw = environ.get(name)
            if raw is None or (raw == "" and f.metadata["empty_is_unset"]):
                continue
            if raw == "":
                values[f.name] = None
                continue
            try:
                values[f.name] = f.metadata["parse"](raw)
            except ValueError as exc:
                kind = {int: "a whole number", float: "a number"}.get(f.metadata["parse"])
                reason = f"must be {kind}" if kind else str(exc)
                raise SettingsError(f"{name} {reason}, not {raw!r}") from None
        values["db_urls"] = MappingProxyType({
            service: environ[_db_url_variable(service)] for service in SERVICES
            if environ.get(_db_url_variable(service))})
        if "confirm_saga_timeout" not in values:
            values["confirm_saga_timeout"] = 2 * values.get("rpc_timeout", cls.rpc_timeout) + 5
        return cls(**values)

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Every variable read, with the field that holds it."""
        found: dict[str, str] = {}
        for f in fields(cls):
            names = f.metadata.get("env", ())
            for name in (names,) if isinstance(names, str) else names:
                found[name] = f.name
        return found

    def database_url(self, service: str) -> str:
        """The database URL of one service.

        ``<SERVICE>_DB_URL`` wins (for example ``REGISTRY_DB_URL``); otherwise the
        database ``<LEC_DB_PREFIX><service>`` on the server ``LEC_PG_URL``.
        """
        explicit = self.db_urls.get(service)
        if explicit:
            return normalise_db_url(explicit)
        return with_database(self.pg_url, f"{self.db_prefix}{service}")

    @property
    def production(self) -> bool:
        return self.environment == PRODUCTION

    @property
    def json_logs(self) -> bool:
        """Logs as one JSON object a line: ``LEC_LOG_FORMAT``, else production."""
        return self.log_format == "json" if self.log_format else self.production

    @property
    def trace_ratio(self) -> float:
        """The share of new traces sampled: ``LEC_TRACE_SAMPLE_RATIO``, else 1 in
        development and 0.05 in production."""
        if self.trace_sample_ratio is not None:
            return self.trace_sample_ratio
        return 0.05 if self.production else 1.0


_current: Optional[Settings] = None


def current() -> Settings:
    """The settings of this process, read from its environment on first use.
    (Two threads that both come first read the same values: no lock needed.)"""
    global _current
    found = _current
    if found is None:
        found = _current = Settings.from_env(os.environ)
    return found


def reload() -> None:
    """Forget the settings read, so that the next :func:`current` reads the
    environment again (for tests and tools that change ``os.environ``)."""
    global _current
    _current = None


def amqp_uri() -> str:
    return current().amqp_uri


def db_prefix() -> str:
    """Prefix of the per-service database names (``lec_registry`` ...)."""
    return current().db_prefix


def database_url(service: str) -> str:
    """The database URL of one service (:meth:`Settings.database_url`)."""
    return current().database_url(service)


def with_database(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url`` (TCP or a
    Unix socket given as ``?host=/path``)."""
    from sqlalchemy.engine import make_url
    url = make_url(normalise_db_url(server_url.rstrip("/") if "?" not in server_url else server_url))
    rendered: str = url.set(database=name).render_as_string(hide_password=False)
    return rendered


def normalise_db_url(url: str) -> str:
    """Use the psycopg2 driver (cooperative under eventlet) for postgres URLs."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme):]
    return url


def rpc_timeout() -> float:
    """Seconds any RPC may take before the caller gives up."""
    return current().rpc_timeout


def jwt_secret() -> str:
    """The current signing key of access tokens (``LEC_JWT_SECRET``)."""
    return current().jwt_secret


def jwt_key_id() -> str:
    """The id of the current key (``LEC_JWT_KEY_ID``), written into every token's
    header as ``kid``; give each new key a new id."""
    return current().jwt_key_id


def jwt_previous_secret() -> Optional[str]:
    """The key before the current one (``LEC_JWT_PREVIOUS_SECRET``): after a
    rotation it still verifies the tokens it signed, which end within
    ``LEC_TOKEN_TTL``; it never signs. Unset: no previous key."""
    return current().jwt_previous_secret


def jwt_previous_key_id() -> Optional[str]:
    """The id the previous key had while it was current (``LEC_JWT_PREVIOUS_KEY_ID``)."""
    return current().jwt_previous_key_id


def token_ttl() -> int:
    """Seconds an access token lives; a token made to live longer is refused."""
    return current().token_ttl


# -- production mode -------------------------------------------------------------------

def environment() -> str:
    """``LEC_ENV``: ``development`` (the default, for ``make run`` and the tests)
    or ``production`` (set in the container image and the Kubernetes manifests)."""
    return current().environment


def production() -> bool:
    return current().production


def _key_problem(name: str, value: str) -> Optional[str]:
    if value == DEV_JWT_SECRET:
        return f"{name} is the built-in development key"
    if PLACEHOLDER in value:
        return f"{name} is still the placeholder of the manifests"
    if len(value.encode("utf-8")) < MIN_KEY_BYTES:
        return f"{name} is shorter than {MIN_KEY_BYTES} bytes"
    return None


def _broker_problem(uri: str) -> Optional[str]:
    from urllib.parse import unquote, urlsplit
    parts = urlsplit(uri)
    user = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if user in ("", "guest") or password in ("", "guest"):
        return "AMQP_URI uses the broker's guest account (name a user and a password of your own)"
    if PLACEHOLDER in password:
        return "AMQP_URI still has the placeholder password of the manifests"
    return None


# OWASP's Password Storage Cheat Sheet: argon2id with one of these (memory KiB, passes), p=1
ARGON2_OWASP_ROWS = ((47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5))


def _argon2_problem(memory_kib: int, time_cost: int) -> Optional[str]:
    """Parameters weaker than every row of OWASP's list (less memory or fewer passes than each)."""
    if any(memory_kib >= m and time_cost >= t for m, t in ARGON2_OWASP_ROWS):
        return None
    rows = ", ".join(f"m={m} t={t}" for m, t in ARGON2_OWASP_ROWS)
    return (f"LEC_ARGON2_MEMORY_KIB={memory_kib} with LEC_ARGON2_TIME_COST={time_cost} is weaker "
            f"than every OWASP row ({rows})")


def production_problems() -> list[str]:
    """What production refuses to start with, one sentence per setting: the
    development signing key or one shorter than 32 bytes (also the previous key),
    the development admin password (or a placeholder), guest broker credentials,
    argon2 parameters weaker than OWASP's recommendation."""
    now = current()
    problems = [_key_problem("LEC_JWT_SECRET", now.jwt_secret)]
    if now.jwt_previous_secret:
        problems.append(_key_problem("LEC_JWT_PREVIOUS_SECRET", now.jwt_previous_secret))
    if now.admin_password == DEV_ADMIN_PASSWORD:
        problems.append("LEC_ADMIN_PASSWORD is the development password")
    elif now.admin_password and PLACEHOLDER in now.admin_password:
        problems.append("LEC_ADMIN_PASSWORD is still the placeholder of the manifests")
    problems.append(_broker_problem(now.amqp_uri))
    problems.append(_argon2_problem(now.argon2_memory_kib, now.argon2_time_cost))
    return [p for p in problems if p]


def check_production(process: str) -> None:
    """Called once as each process starts (every service, the gateway): in
    production (``LEC_ENV=production``) raise :class:`SettingsError` naming
    every setting that must change; in development do nothing."""
    if not production():
        return
    problems = production_problems()
    if problems:
        raise SettingsError(f"{process} refuses to start in production (LEC_ENV=production): "
                            + "; ".join(problems))
