"""What the reporting service asks of the owners of the data, in one place:
the registry (units, accounts' names), rounds (rounds, extensions),
enrollment (counts, facts for a rebuild) and confirmation (states, requests)."""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, Tuple

log = logging.getLogger(__name__)


class Ports:
    """The other services' RPC proxies of one worker."""

    def __init__(self, registry: Any, rounds: Any, enrollment: Any = None, confirmation: Any = None):
        self.registry = registry
        self.rounds = rounds
        self.enrollment = enrollment
        self.confirmation = confirmation

    def ask_optional(self, calls: Dict[str, Optional[Tuple[Callable[..., Any], tuple]]]) -> Dict[str, Any]:
        """Ask several owners at once (``name -> (method, args)``, ``None``: not
        asked); each answer, or ``None`` when that service does not offer the
        call (yet) or fails: what is built from them stands without it."""
        replies = {name: self._start(call) for name, call in calls.items() if call is not None}
        return {name: self._answer(reply, name) for name, reply in replies.items()}

    @staticmethod
    def _start(call: Tuple[Callable[..., Any], tuple]) -> Any:
        method, args = call
        try:
            return method.call_async(*args)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001
            log.warning("could not ask %s: %s", getattr(method, "_name", method), exc)
            return None

    @staticmethod
    def _answer(reply: Any, what: str) -> Any:
        if reply is None:
            return None
        try:
            return reply.result()
        except Exception as exc:  # noqa: BLE001 - MethodNotFound, service_unavailable, remote errors
            log.warning("%s unavailable: %s", what, getattr(exc, "message", None) or exc)
            return None
