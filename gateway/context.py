"""What every resource receives: settings, RPC client and the unit directory."""
from gateway.access import GATEWAY, TokenStates
from gateway.rpc import RpcClient
from services.common.units import MemoryStore, UnitDirectory


class AppContext:
    def __init__(self, config, rpc=None, units=None):
        self.config = config
        self.rpc = rpc or RpcClient(config.amqp_uri, config.rpc_timeout)
        self.units = units or UnitDirectory(
            fetch=lambda ids: self.rpc.call("registry", "get_units", ids, actor=GATEWAY),
            ttl=config.unit_cache_ttl, store=MemoryStore(config.unit_cache_size))
        self.tokens = TokenStates(self.rpc, config.token_state_ttl, units=self.units)
        self.record_paths = {}  # a record's id -> its institution's path, per kind (RecordPaths.of)

    def call(self, req, service, method, *args, timeout=None, **kwargs):
        """RPC on behalf of the request's user."""
        return self.rpc.call(service, method, *args, actor=req.context.actor,
                             request_id=getattr(req.context, "request_id", None),
                             timeout=timeout, **kwargs)


def json_body(req):
    """The JSON object of the request (a clear error for anything else)."""
    from services.common.errors import validation_error
    body = req.get_media()
    if not isinstance(body, dict):
        raise validation_error({"_schema": ["expected a JSON object"]})
    return body


def paging(req):
    return {"limit": req.get_param("limit"), "offset": req.get_param("offset")}
