"""Gateway settings, from the environment."""
from dataclasses import dataclass, field

from gateway.auth import KeyRing
from services.common import settings


@dataclass
class GatewayConfig:
    amqp_uri: str = field(default_factory=settings.amqp_uri)
    rpc_timeout: float = field(default_factory=settings.rpc_timeout)
    # the signing key of tokens and the previous one still accepted (gateway.auth.KeyRing)
    keys: KeyRing = field(default_factory=KeyRing.from_settings)
    token_ttl: int = field(default_factory=settings.token_ttl)
    # proxies in front of the gateway that append the client's address to X-Forwarded-For
    trusted_proxies: int = field(default_factory=lambda: settings.env_int("LEC_TRUSTED_PROXIES", 0))
    max_body: int = field(default_factory=lambda: settings.env_int("LEC_MAX_BODY", 1024 * 1024))
    max_upload: int = field(default_factory=lambda: settings.env_int("LEC_MAX_UPLOAD", 512 * 1024 * 1024))
    unit_cache_ttl: float = field(default_factory=lambda: settings.env_float("LEC_UNIT_CACHE_TTL", 300))
    unit_cache_size: int = field(default_factory=lambda: settings.env_int("LEC_UNIT_CACHE_SIZE", 100_000))
    token_state_ttl: float = field(default_factory=lambda: settings.env_float("LEC_TOKEN_STATE_TTL", 60))
    # operators' routes (/readyz, /metrics): the bearer they require; unset: open (development only)
    ops_token: str = field(default_factory=lambda: settings.env("LEC_OPS_TOKEN", ""))
    ready_cache_ttl: float = field(default_factory=lambda: settings.env_float("LEC_READY_CACHE_SECONDS", 5))
    listen_events: bool = True
