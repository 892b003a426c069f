"""Gateway settings, from the environment."""
from dataclasses import dataclass, field

from services.common import settings


@dataclass
class GatewayConfig:
    amqp_uri: str = field(default_factory=settings.amqp_uri)
    rpc_timeout: float = field(default_factory=settings.rpc_timeout)
    jwt_secret: str = field(default_factory=settings.jwt_secret)
    token_ttl: int = field(default_factory=settings.token_ttl)
    max_body: int = field(default_factory=lambda: settings.env_int("LEC_MAX_BODY", 1024 * 1024))
    max_upload: int = field(default_factory=lambda: settings.env_int("LEC_MAX_UPLOAD", 512 * 1024 * 1024))
    unit_cache_ttl: float = field(default_factory=lambda: settings.env_float("LEC_UNIT_CACHE_TTL", 300))
    unit_cache_size: int = field(default_factory=lambda: settings.env_int("LEC_UNIT_CACHE_SIZE", 100_000))
    token_state_ttl: float = field(default_factory=lambda: settings.env_float("LEC_TOKEN_STATE_TTL", 60))
    listen_events: bool = True
