"""A per-process sign of life, for liveness probes and the launcher.

The health RPC (``healthcheck <service>``) asks the service as a whole: any
instance listening on its queue may answer, so it cannot tell that one
particular process is stuck. :class:`Heartbeat` is a nameko dependency that,
when ``LEC_HEARTBEAT_FILE`` is set, rewrites that file every
``LEC_HEARTBEAT_INTERVAL`` seconds (5) from its own green thread: the file
stays fresh while the process runs and its event loop turns, whatever its
workers are doing, and goes stale when the process dies, hangs or is blocked.
``python -m services.common.healthcheck --heartbeat FILE --max-age S`` checks
it; ``{service}`` in the setting is replaced by the service's name, so
processes sharing a directory keep their own files. The loop runs with or
without a file: the time of its last turn (``last_beat``) is what the process's
own ``/livez`` (services.common.ops) reports, and the file also records the
port of that endpoint (``ops_port``) when it has one.
"""
import json
import logging
import os
import time

import eventlet
from nameko.extensions import DependencyProvider

from services.common import settings

log = logging.getLogger(__name__)


def heartbeat_path(service, template=None):
    """The file of ``service``'s heartbeat: ``template`` (``LEC_HEARTBEAT_FILE`` by
    default) with ``{service}`` replaced; None when heartbeats are off."""
    template = template if template is not None else settings.current().heartbeat_file
    return template.replace("{service}", service) if template else None


def beat(path, service, extra=None):
    """Write the heartbeat atomically (a reader never sees half a file)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as out:
        json.dump({"service": service, "pid": os.getpid(), "at": time.time(), **(extra or {})}, out)
    os.replace(tmp, path)


def age(path, now=None):
    """Seconds since the heartbeat in ``path`` was written; None when there is none."""
    try:
        with open(path) as f:
            written = float(json.load(f)["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return max(0.0, (time.time() if now is None else now) - written)


class Heartbeat(DependencyProvider):

    def setup(self):
        self.service = self.container.service_name
        self.path = heartbeat_path(self.service)
        self.interval = settings.current().heartbeat_interval
        self._thread = None
        self.last_beat = None  # time.monotonic() of the loop's last turn

    def start(self):
        if self.path:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._write()
        self._thread = self.container.spawn_managed_thread(self._run, identifier="heartbeat")

    def _run(self):
        while True:
            eventlet.sleep(self.interval)
            self._write()

    def _write(self):
        self.last_beat = time.monotonic()
        if not self.path:
            return
        extra = {}
        for ext in self.container.extensions:
            fields = getattr(ext, "heartbeat_fields", None)
            if fields is not None:
                extra.update(fields())
        try:
            beat(self.path, self.service, extra)
        except OSError as exc:  # a full or read-only disk must not kill the service
            log.warning("could not write the heartbeat %s: %s", self.path, exc)

    def stop(self):
        if self._thread is not None:
            self._thread.kill()
            self._thread = None

    kill = stop
