"""Gateway settings, from the process's settings (services.common.settings)."""
from dataclasses import dataclass, field

from gateway.auth import KeyRing
from services.common import settings


def _setting(name):
    """A field whose default is the setting ``name`` of this process."""
    return field(default_factory=lambda: getattr(settings.current(), name))


@dataclass
class GatewayConfig:
    amqp_uri: str = _setting("amqp_uri")
    rpc_timeout: float = _setting("rpc_timeout")
    # the signing key of tokens and the previous one still accepted (gateway.auth.KeyRing)
    keys: KeyRing = field(default_factory=KeyRing.from_settings)
    token_ttl: int = _setting("token_ttl")
    # proxies in front of the gateway that append the client's address to X-Forwarded-For
    trusted_proxies: int = _setting("trusted_proxies")
    max_body: int = _setting("max_body")
    max_upload: int = _setting("max_upload")
    unit_cache_ttl: float = _setting("unit_cache_ttl")
    unit_cache_size: int = _setting("unit_cache_size")
    token_state_ttl: float = _setting("token_state_ttl")
    # operators' routes (/readyz, /metrics): the bearer they require; unset: open (development only)
    ops_token: str = _setting("ops_token")
    ready_cache_ttl: float = _setting("ready_cache_seconds")
    listen_events: bool = True
