"""The rounds enrollment's seal applies (its checks' rules, census date, the round compared
with) come from the process's calendar: read once, kept while the rounds stay as they are,
forgotten when the rounds service announces a round created or changed."""
from services.common.rounds_calendar import RoundCalendar
from services.common.units import MemoryStore
from services.enrollment.ports import Ports


class Rounds:
    def __init__(self, *records):
        self.records = {r["id"]: r for r in records}
        self.asked = []

    def calendar(self, round_id):
        self.asked.append(("calendar", round_id))
        return {"round": self.records[round_id], "extensions": []}

    def list_rounds(self, limit=10, offset=0, academic_year=None):
        self.asked.append(("list_rounds", academic_year))
        return {"items": [r for r in self.records.values() if r["academic_year"] == academic_year]}


def record(id, year, number, version=1, **settings):
    return {"id": id, "academic_year": year, "number": number, "census_date": f"{year - 543}-06-10",
            "version": version, "settings": settings}


def seal_ports(rounds, calendar):
    return Ports(None, None, rounds, store=MemoryStore(), calendar=calendar)


def test_a_seal_asks_the_rounds_service_once_until_a_round_changes():
    calendar = RoundCalendar(ttl=60)
    rounds = Rounds(record(1, 2569, 1), record(2, 2569, 2), record(3, 2568, 2))
    round_, previous = seal_ports(rounds, calendar).seal_rounds(2)
    assert (round_.id, previous.id) == (2, 1)
    assert rounds.asked == [("calendar", 2), ("list_rounds", 2569)]
    # another seal, another worker (its own Ports): nothing asked
    assert seal_ports(rounds, calendar).seal_rounds(2) == (round_, previous)
    assert len(rounds.asked) == 2
    # round 1 compares with round 2 of the year before
    assert seal_ports(rounds, calendar).seal_rounds(1)[1].id == 3
    # a round changed (its rules, say): the event replaces it, the years' lists are read again
    rounds.records[2] = record(2, 2569, 2, version=2, checks={"rules": {}})
    calendar.on_round(rounds.records[2])
    asked = len(rounds.asked)
    round_, previous = seal_ports(rounds, calendar).seal_rounds(2)
    assert round_.settings == {"checks": {"rules": {}}} and previous.id == 1
    assert rounds.asked[asked:] == [("list_rounds", 2569)]
    # a round created: the years are read again (round 2 of 2568 now has a round 1 before it)
    round_3 = calendar.round(3, rounds.calendar)
    assert seal_ports(rounds, calendar).previous_round(round_3) is None
    rounds.records[5] = record(5, 2568, 1)
    calendar.on_round(rounds.records[5], whole=True)
    assert seal_ports(rounds, calendar).previous_round(round_3).id == 5


def test_the_rounds_kept_expire():
    clock = [100.0]
    calendar = RoundCalendar(ttl=60, clock=lambda: clock[0])
    rounds = Rounds(record(1, 2569, 1))
    seal_ports(rounds, calendar).seal_rounds(1)
    clock[0] += 61
    seal_ports(rounds, calendar).seal_rounds(1)
    assert [a for a, _ in rounds.asked] == ["calendar", "list_rounds", "calendar", "list_rounds"]


def test_a_year_read_while_a_round_event_arrives_is_not_kept():
    calendar = RoundCalendar(ttl=60)
    rounds = Rounds(record(1, 2569, 1), record(2, 2569, 2))

    def list_year(year):   # the event lands while the list is on its way
        found = rounds.list_rounds(academic_year=year)["items"]
        calendar.on_round(record(2, 2569, 2, version=2), whole=True)
        return found

    calendar.year(2569, list_year)
    calendar.year(2569, lambda year: rounds.list_rounds(academic_year=year)["items"])
    assert [a for a, _ in rounds.asked] == ["list_rounds", "list_rounds"]
