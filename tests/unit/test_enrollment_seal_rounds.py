"""The rounds enrollment's seal applies (its checks' rules, census date, the round compared
with) are kept per process, and forgotten when the rounds service announces a change."""
from services.common.units import MemoryStore
from services.enrollment import ports as enrollment_ports
from services.enrollment.ports import Ports, rounds_changed


class Rounds:
    def __init__(self, *records):
        self.records = {r["id"]: r for r in records}
        self.asked = []

    def get_round(self, round_id):
        self.asked.append(("get_round", round_id))
        return self.records[round_id]

    def list_rounds(self, limit=10, offset=0, academic_year=None):
        self.asked.append(("list_rounds", academic_year))
        return {"items": [r for r in self.records.values() if r["academic_year"] == academic_year]}


def record(id, year, number, **settings):
    return {"id": id, "academic_year": year, "number": number, "census_date": f"{year - 543}-06-10",
            "settings": settings}


def seal_ports(rounds):
    return Ports(None, None, rounds, store=MemoryStore())


def test_a_seal_asks_the_rounds_service_once_until_a_round_changes(monkeypatch):
    monkeypatch.setattr(enrollment_ports, "_SEAL_ROUNDS", None)
    rounds = Rounds(record(1, 2569, 1), record(2, 2569, 2), record(3, 2568, 2))
    round_, previous = seal_ports(rounds).seal_rounds(2)
    assert (round_.id, previous.id) == (2, 1)
    assert rounds.asked == [("get_round", 2), ("list_rounds", 2569)]
    # another seal, another worker (its own Ports): nothing asked
    assert seal_ports(rounds).seal_rounds(2) == (round_, previous)
    assert len(rounds.asked) == 2
    # round 1 compares with round 2 of the year before
    assert seal_ports(rounds).seal_rounds(1)[1].id == 3
    # a round changed (its rules, say): asked again
    rounds.records[2] = record(2, 2569, 2, checks={"rules": {}})
    rounds_changed({"round": rounds.records[2]})
    asked = len(rounds.asked)
    round_, _ = seal_ports(rounds).seal_rounds(2)
    assert round_.settings == {"checks": {"rules": {}}}
    assert rounds.asked[asked:] == [("get_round", 2), ("list_rounds", 2569)]


def test_the_rounds_kept_expire(monkeypatch):
    monkeypatch.setattr(enrollment_ports, "_SEAL_ROUNDS", None)
    clock = [100.0]
    monkeypatch.setattr(enrollment_ports.time, "monotonic", lambda: clock[0])
    rounds = Rounds(record(1, 2569, 1))
    seal_ports(rounds).seal_rounds(1)
    clock[0] += enrollment_ports.settings.current().round_cache_ttl + 1
    seal_ports(rounds).seal_rounds(1)
    assert [a for a, _ in rounds.asked].count("get_round") == 2
