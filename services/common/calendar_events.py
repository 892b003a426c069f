"""This process's copy of the rounds calendar (:class:`RoundCalendar`) and the
event handlers that keep it: a service that asks whether a round is open on
its hot path (enrollment's edits, confirmation's confirmations) mixes in
:class:`RoundCalendarEvents` and reads :func:`process_calendar` instead of
calling the rounds service. The events come on a broadcast queue per process,
so each process's copy hears them; one missed waits for the TTL
(``LEC_ROUND_CACHE_TTL``)."""
from typing import Any, Mapping, Optional

from nameko.events import BROADCAST, event_handler

from services.common import settings
from services.common.rounds_calendar import RoundCalendar

_CALENDAR: Optional[RoundCalendar] = None
_EVERY_PROCESS: Mapping[str, Any] = dict(handler_type=BROADCAST, reliable_delivery=False)


def process_calendar() -> RoundCalendar:
    """This process's copy of the rounds calendar (shared by its workers)."""
    global _CALENDAR
    if _CALENDAR is None:
        _CALENDAR = RoundCalendar(settings.current().round_cache_ttl)
    return _CALENDAR


def forget_process_calendar() -> None:
    """Drop this process's copy (tests that reuse round ids with other records)."""
    global _CALENDAR
    _CALENDAR = None


class RoundCalendarEvents:
    """The rounds service's events (and confirmation's ``round_finalized``) applied to
    :func:`process_calendar`, the one copy of rounds a process keeps."""

    @event_handler("rounds", "round_created", **_EVERY_PROCESS)
    def on_round_created(self, event: Mapping[str, Any]) -> None:
        process_calendar().on_round(event["round"], whole=True)

    @event_handler("rounds", "round_changed", **_EVERY_PROCESS)
    def on_round_changed(self, event: Mapping[str, Any]) -> None:
        process_calendar().on_round(event["round"])

    @event_handler("rounds", "round_opened", **_EVERY_PROCESS)
    def on_round_opened(self, event: Mapping[str, Any]) -> None:
        process_calendar().on_round(event["round"])

    @event_handler("rounds", "round_closed", **_EVERY_PROCESS)
    def on_round_closed(self, event: Mapping[str, Any]) -> None:
        process_calendar().on_round(event["round"])

    @event_handler("rounds", "extension_granted", **_EVERY_PROCESS)
    def on_extension_granted(self, event: Mapping[str, Any]) -> None:
        process_calendar().on_extension(event["round_id"], event["extension"])

    @event_handler("confirmation", "round_finalized", **_EVERY_PROCESS)
    def on_round_finalized(self, event: Mapping[str, Any]) -> None:
        process_calendar().on_finalized(event["round"]["id"], event.get("occurred_at"))
