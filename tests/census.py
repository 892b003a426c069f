"""A small census played by the owners' rules, emitting the events of
services/CONTRACTS.md (registry, rounds, enrollment, confirmation) and
knowing the counts the owners would report: the reference the reporting
read model is checked against.
"""
import copy
import datetime as dt
import random
import uuid
from collections import Counter

from services.common.hierarchy import make_path, path_ids

SCHOOL_GRADES = ("k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3")
T0 = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))

SETTINGS = {
    "cdc_age": {"min_years": 2, "max_years": 5},
    "lunch": {"school": {"days": 200, "grades": ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6"],
                         "tiers": [{"min_pupils": 1, "max_pupils": 40, "rate": 36.0},
                                   {"min_pupils": 41, "max_pupils": 100, "rate": 27.0},
                                   {"min_pupils": 101, "max_pupils": 120, "rate": 24.0},
                                   {"min_pupils": 121, "max_pupils": None, "rate": 22.0}]},
              "cdc": {"days": 245, "rate": 21.0}},
    "milk": {"school": {"days": 260, "grades": ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6"],
                        "price_per_pack": 7.35, "packs_per_day": 1},
             "cdc": {"days": 260, "price_per_pack": 7.35, "packs_per_day": 1}},
}


class Census:
    """Owner-side state and the event stream, in the owners' order."""

    def __init__(self, round_id, base_id, seed=0, academic_year=2569, number=2, provinces=2):
        self.rng = random.Random(seed)
        self.round_id = round_id
        self.academic_year = academic_year
        self.number = number
        self.next_id = base_id
        self.clock = 0
        self.units = {}
        self.events = []          # (source, type, payload)
        self.learners = {}        # id -> learner dict (current)
        self.headcounts = {}      # school id -> {"version", "by_grade", "closed"}
        self.state = {}           # unit id -> "confirmed" | "open"
        self.sealed = {}          # unit id -> counts at confirmation
        self.confirmation_version = Counter()   # unit id -> the confirmation row's version
        self._tree(provinces)

    # -- helpers -----------------------------------------------------------------
    def _id(self):
        self.next_id += 1
        return self.next_id

    def _at(self):
        self.clock += 1
        return (T0 + dt.timedelta(milliseconds=self.clock)).isoformat()

    def _emit(self, source, event_type, body):
        event = {"event_id": str(uuid.uuid4()), "type": event_type, "version": 1,
                 "occurred_at": self._at(), **copy.deepcopy(body)}
        self.events.append((source, event_type, event))
        return event

    def add_unit(self, type_, parent=None, affiliation=None, name=None):
        unit_id = self._id()
        path = make_path(parent["path"] if parent else None, unit_id)
        unit = {"id": unit_id, "code": f"U{unit_id}", "name": name or f"หน่วย {type_} {unit_id}", "type": type_,
                "parent_id": parent["id"] if parent else None, "status": "active",
                "affiliation": affiliation, "path": path, "depth": len(path_ids(path)) - 1,
                "closed_on": None, "version": 1}
        self.units[unit_id] = unit
        self._emit("registry", "unit_changed", {"change": "created", "unit": unit})
        return unit

    def _tree(self, provinces):
        self.department = self.add_unit("department", name="กรมส่งเสริมการปกครองท้องถิ่น")
        for _ in range(provinces):
            province = self.add_unit("province", self.department)
            for _ in range(self.rng.randint(2, 3)):
                lao = self.add_unit("lao", province)
                for _ in range(self.rng.randint(1, 2)):
                    self.add_unit("school", lao)
                for _ in range(self.rng.randint(0, 2)):
                    self.add_unit("cdc", lao)
                for _ in range(self.rng.randint(0, 2)):
                    self.add_unit("other_school", lao, affiliation=self.rng.choice(["obec", "bpp"]))

    def close_unit(self, unit):
        """The registry closes a unit (an other-affiliation school that shut down)."""
        unit.update(status="closed", closed_on="2026-11-02", version=unit["version"] + 1)
        self._emit("registry", "unit_changed", {"change": "closed", "unit": unit})
        return unit

    def of_type(self, *types):
        return [u for u in self.units.values() if u["type"] in types]

    def round_event(self, round_id=None, **over):
        body = {"id": round_id or self.round_id, "academic_year": self.academic_year, "number": self.number,
                "census_date": "2026-11-10", "opens_at": "2026-10-16T00:00:00+07:00",
                "closes_at": "2099-11-11T00:00:00+07:00", "finalized_at": None, "settings": SETTINGS,
                "version": 1, "state": "open", **over}
        return self._emit("rounds", "round_created", {"round": body})

    # -- enrollment -------------------------------------------------------------------
    def _ref(self, unit):
        return {"id": unit["id"], "type": unit["type"], "path": unit["path"]}

    def _learner_event(self, event_type, learner, before=None):
        body = {"round_id": self.round_id, "learner": learner}
        if before is not None:
            body["before"] = before
        self._emit("enrollment", event_type, body)

    def locked(self, inst):
        return self.state.get(inst["id"]) == "confirmed"

    def _new_learner(self, inst, grade=None, sex=None, id_kind=None, age=None):
        cdc = inst["type"] == "cdc"
        grade = grade or ("cdc" if cdc else self.rng.choice(SCHOOL_GRADES))
        learner = {"id": self._id(), "version": 1, "institution": self._ref(inst), "grade": grade,
                   "sex": sex or self.rng.choice("MF"),
                   "id_kind": id_kind or ("g_code" if self.rng.random() < 0.1 else "national_id"),
                   "age_years": (age if age is not None else self.rng.randint(2, 5)) if cdc else
                   self.rng.randint(4, 17),
                   "status": "active", "removal_reason": None}
        self.learners[learner["id"]] = learner
        return learner

    def add_learner(self, inst, grade=None, sex=None, id_kind=None, age=None):
        if self.locked(inst):
            return None
        learner = self._new_learner(inst, grade, sex, id_kind, age)
        self._learner_event("learner_added", learner)
        return learner

    def import_learners(self, inst, n, per_event=None):
        """A bulk import (or carry-over): ``n`` learners announced in ``learners_added``
        events of at most ``per_event`` learners each, as enrollment sends them."""
        if self.locked(inst):
            return []
        made = [self._new_learner(inst) for _ in range(n)]
        per_event = per_event or self.rng.randint(1, 4)
        for i in range(0, n, per_event):
            self._emit("enrollment", "learners_added", {"round_id": self.round_id, "institution": self._ref(inst),
                                                        "learners": made[i:i + per_event]})
        return made

    def change_learner(self, learner_id):
        learner = self.learners[learner_id]
        inst = self.units[learner["institution"]["id"]]
        if learner["status"] != "active" or self.locked(inst):
            return None
        before = copy.deepcopy(learner)
        learner["version"] += 1
        learner["sex"] = self.rng.choice("MF")
        if inst["type"] == "school":
            learner["grade"] = self.rng.choice(SCHOOL_GRADES)
        else:
            learner["age_years"] = self.rng.randint(2, 5)
        self._learner_event("learner_changed", learner, before)
        return learner

    def remove_learner(self, learner_id, reason="moved_out"):
        learner = self.learners[learner_id]
        if learner["status"] != "active" or self.locked(self.units[learner["institution"]["id"]]):
            return None
        learner["version"] += 1
        learner["status"] = "removed"
        learner["removal_reason"] = reason
        self._learner_event("learner_removed", learner)
        return learner

    def set_headcount(self, school, by_grade=None, closed=False):
        lao = self.units[school["parent_id"]]
        if self.locked(lao):
            return None
        by_grade = {} if closed else (by_grade if by_grade is not None else
                                      {g: self.rng.randint(0, 30) for g in self.rng.sample(SCHOOL_GRADES, 4)})
        entry = self.headcounts.setdefault(school["id"], {"version": 0})
        entry.update(version=entry["version"] + 1, by_grade={g: n for g, n in by_grade.items() if n},
                     closed=closed)
        self._emit("enrollment", "headcount_set", {
            "round_id": self.round_id, "school": {**self._ref(school), "closed": closed}, "lao_id": lao["id"],
            "counts": {"total": sum(by_grade.values()), "by_grade": by_grade}, "version": entry["version"]})
        return entry

    # -- owners' counts ---------------------------------------------------------------
    def by_grade_of(self, unit):
        """Live learners (and other-school pupils) in ``unit``'s subtree, by grade."""
        counts = Counter()
        for learner in self.learners.values():
            if learner["status"] == "active" and learner["institution"]["path"].startswith(unit["path"]):
                counts[learner["grade"]] += 1
        return counts

    def cube_of(self, unit):
        """Counter of (grade, sex, id_kind, age|-1) over active learners in the subtree."""
        cube = Counter()
        for learner in self.learners.values():
            if learner["status"] == "active" and learner["institution"]["path"].startswith(unit["path"]):
                age = learner["age_years"] if learner["grade"] == "cdc" else -1
                cube[(learner["grade"], learner["sex"], learner["id_kind"], age)] += 1
        return cube

    def other_by_grade_of(self, unit):
        counts = Counter()
        for school_id, entry in self.headcounts.items():
            if self.units[school_id]["path"].startswith(unit["path"]):
                counts.update(entry["by_grade"])
        return +counts

    def counts_of(self, unit):
        if unit["type"] == "other_school":
            return dict(self.headcounts.get(unit["id"], {}).get("by_grade", {}))
        if unit["type"] == "lao":
            return dict(self.other_by_grade_of(unit))
        return dict(self.by_grade_of(unit))

    # -- confirmation -------------------------------------------------------------------
    def children(self, unit, confirming=True):
        return [u for u in self.units.values() if u["parent_id"] == unit["id"]
                and (not confirming or u["type"] != "other_school")]

    def can_confirm(self, unit):
        return self.state.get(unit["id"]) != "confirmed" and all(
            self.state.get(c["id"]) == "confirmed" for c in self.children(unit))

    def confirm(self, unit, who=1):
        if not self.can_confirm(unit):
            return None
        counts = self.counts_of(unit)
        self.state[unit["id"]] = "confirmed"
        self.sealed[unit["id"]] = counts
        # the service's row: sealing, then confirmed (institutions and LAOs seal in enrollment)
        self.confirmation_version[unit["id"]] += 2 if unit["type"] in ("school", "cdc", "lao") else 1
        body = {"round": {"id": self.round_id, "academic_year": self.academic_year, "number": self.number},
                "org_unit": {"id": unit["id"], "code": unit["code"], "type": unit["type"], "path": unit["path"]},
                "counts": {"total": sum(counts.values()), "by_grade": counts}, "confirmed_by": who,
                "confirmed_by_username": f"user.{who}",
                "confirmation_version": self.confirmation_version[unit["id"]],
                "confirmed_at": (T0 + dt.timedelta(milliseconds=self.clock)).isoformat()}
        if unit["type"] == "lao":
            schools = [{"id": s["id"], "code": s["code"], "closed": self.headcounts.get(s["id"], {}).get("closed", False),
                        "counts": {"total": sum(self.counts_of(s).values()), "by_grade": self.counts_of(s)}}
                       for s in self.children(unit, confirming=False) if s["type"] == "other_school"]
            body["other_schools"] = {"total": sum(counts.values()), "by_grade": counts, "schools": schools}
        event_type = "round_finalized" if unit["type"] == "department" else "unit_confirmed"
        return self._emit("confirmation", event_type, body)

    def revoke(self, unit, reason="fix"):
        parent = self.units.get(unit["parent_id"])
        if self.state.get(unit["id"]) != "confirmed" or parent is None or self.state.get(parent["id"]) == "confirmed":
            return None
        self.state[unit["id"]] = "open"
        self.sealed.pop(unit["id"], None)
        counts = self.counts_of(unit)
        self.confirmation_version[unit["id"]] += 1
        event = self._emit("confirmation", "unit_revoked", {
            "round": {"id": self.round_id, "academic_year": self.academic_year, "number": self.number},
            "org_unit": {"id": unit["id"], "code": unit["code"], "type": unit["type"], "path": unit["path"]},
            "counts": {"total": sum(counts.values()), "by_grade": counts}, "reason": reason,
            "revoked_by": 1, "confirmed_by": 1, "confirmed_by_username": "user.1",
            "confirmation_version": self.confirmation_version[unit["id"]]})
        if unit["type"] in ("school", "cdc", "lao"):
            self.confirmation_version[unit["id"]] += 1     # unsealed: the row moves on without an event
        return event

    # -- a random session of work --------------------------------------------------------
    def play(self, steps):
        institutions = self.of_type("school", "cdc")
        others = self.of_type("other_school")
        laos, provinces = self.of_type("lao"), self.of_type("province")
        for _ in range(steps):
            roll = self.rng.random()
            active = [i for i, l in self.learners.items() if l["status"] == "active"]
            if roll < 0.37 or not active:
                self.add_learner(self.rng.choice(institutions))
            elif roll < 0.45:
                self.import_learners(self.rng.choice(institutions), self.rng.randint(1, 9))
            elif roll < 0.55:
                self.change_learner(self.rng.choice(active))
            elif roll < 0.65:
                self.remove_learner(self.rng.choice(active))
            elif roll < 0.72 and others:
                school = self.rng.choice(others)
                if self.rng.random() < 0.1 and school["status"] != "closed":
                    self.close_unit(school)
                self.set_headcount(school, closed=school["status"] == "closed")
            elif roll < 0.85:
                self.confirm(self.rng.choice(institutions + laos + provinces))
            else:
                self.revoke(self.rng.choice(institutions + laos + provinces))
        return self

    # -- what the progress tallies should say -------------------------------------------
    def below(self, unit, type_):
        return [u for u in self.units.values() if u["type"] == type_ and u["path"].startswith(unit["path"])]

    def tally_of(self, unit, type_):
        found = self.below(unit, type_)
        return {"total": sum(1 for u in found if u["status"] != "closed"),
                "confirmed": sum(1 for u in found if self.state.get(u["id"]) == "confirmed")}

    def headcount_tally_of(self, unit):
        found = [h for i, h in self.headcounts.items() if self.units[i]["path"].startswith(unit["path"])]
        return {"schools": self.tally_of(unit, "other_school")["total"], "recorded": len(found),
                "closed": sum(1 for h in found if h["closed"])}
