"""A service with nothing but the heartbeat, run as its own process by the tests."""
from services.common.heartbeat import Heartbeat


class HeartbeatProbe:
    name = "heartbeat_probe"
    heartbeat = Heartbeat()
