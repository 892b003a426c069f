"""Typed, frozen values of what crosses a service boundary: a unit of the
hierarchy, a round, a round's window for one unit. They are built once at the
edge (from an RPC answer, an event or a row) and travel inside a service as
attributes, never as string-keyed dicts; ``as_dict`` gives the JSON form back."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Mapping, Optional

from services.common.vocabulary import INSTITUTION_TYPES, LEVEL_OF_TYPE, SEALED_TYPES


def _date(value: Any) -> Optional[dt.date]:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _instant(value: Any) -> Optional[dt.datetime]:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


@dataclass(frozen=True)
class Unit:
    """An org unit as the registry describes it."""
    id: int
    type: str
    path: str
    status: str = "active"
    code: Optional[str] = None
    name: Optional[str] = None
    parent_id: Optional[int] = None
    affiliation: Optional[str] = None
    closed_on: Optional[dt.date] = None
    version: int = 1

    FIELDS = ("id", "code", "name", "type", "parent_id", "path", "status", "affiliation",
              "closed_on", "version")

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "Unit":
        parent = record.get("parent_id")
        return cls(id=int(record["id"]), type=str(record["type"]), path=str(record["path"]),
                   status=str(record.get("status") or "active"), code=record.get("code"),
                   name=record.get("name"), parent_id=int(parent) if parent is not None else None,
                   affiliation=record.get("affiliation"), closed_on=_date(record.get("closed_on")),
                   version=int(record.get("version") or 1))

    def as_dict(self) -> Dict[str, Any]:
        return {k: _iso(getattr(self, k)) for k in self.FIELDS}

    def ref(self) -> Dict[str, Any]:
        """How a unit appears in events and seals: ``{id, type, path}``."""
        return {"id": self.id, "type": self.type, "path": self.path}

    @property
    def level(self) -> str:
        return LEVEL_OF_TYPE[self.type]

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def is_institution(self) -> bool:
        return self.type in INSTITUTION_TYPES

    @property
    def is_sealed_by_enrollment(self) -> bool:
        return self.type in SEALED_TYPES


@dataclass(frozen=True)
class Round:
    """A census round as the rounds service describes it."""
    id: int
    academic_year: int
    number: int
    census_date: dt.date
    opens_at: Optional[dt.datetime] = None
    closes_at: Optional[dt.datetime] = None
    finalized_at: Optional[dt.datetime] = None
    state: Optional[str] = None
    version: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)
    deadlines: Mapping[str, Optional[dt.datetime]] = field(default_factory=dict)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "Round":
        return cls(id=int(record["id"]), academic_year=int(record["academic_year"]),
                   number=int(record["number"]), census_date=_date(record["census_date"]),  # type: ignore[arg-type]
                   opens_at=_instant(record.get("opens_at")), closes_at=_instant(record.get("closes_at")),
                   finalized_at=_instant(record.get("finalized_at")), state=record.get("state"),
                   version=int(record.get("version") or 1), settings=dict(record.get("settings") or {}),
                   deadlines={k: _instant(v) for k, v in (record.get("deadlines") or {}).items()})

    def as_dict(self) -> Dict[str, Any]:
        data = {k: _iso(v) for k, v in asdict(self).items() if k not in ("settings", "deadlines")}
        data["settings"] = dict(self.settings)
        data["deadlines"] = {k: _iso(v) for k, v in self.deadlines.items()}
        return data

    def ref(self) -> Dict[str, int]:
        """How a round appears in events: ``{id, academic_year, number}``."""
        return {"id": self.id, "academic_year": self.academic_year, "number": self.number}


@dataclass(frozen=True)
class Window:
    """Whether a round is open for one unit at one level (its deadline and extensions honoured)."""
    round_id: int
    unit_path: str
    level: str
    state: str
    opens_at: Optional[dt.datetime] = None
    closes_at: Optional[dt.datetime] = None
    extended: bool = False

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "Window":
        return cls(round_id=int(record["round_id"]), unit_path=str(record["unit_path"]),
                   level=str(record.get("level") or "institution"), state=str(record["state"]),
                   opens_at=_instant(record.get("opens_at")), closes_at=_instant(record.get("closes_at")),
                   extended=bool(record.get("extended")))

    @property
    def open(self) -> bool:
        return self.state == "open"

    def as_dict(self) -> Dict[str, Any]:
        data = {k: _iso(v) for k, v in asdict(self).items()}
        data["open"] = self.open
        return data
