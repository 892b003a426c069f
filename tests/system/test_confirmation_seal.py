"""What a confirmation seals, beyond its counts: what changed since the last seal
(kept after a revoke), a digest anyone can recompute from the published counts,
and the confirming user's note."""
import hashlib
import json

import pytest

from tests.events import EventCollector
from tests.system.confirmation_support import (
    add_learner, add_learners, conf_path, confirm, national_id, new_round, refused, revoke,
    set_headcount,
)


@pytest.fixture
def events(lec_env):
    collector = EventCollector(lec_env["AMQP_URI"], "confirmation", ["unit_confirmed"])
    yield collector
    collector.close()


@pytest.fixture
def rnd(admin):
    return new_round(admin)


def diff_path(rid, unit_id):
    return conf_path(rid, unit_id) + "/diff"


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def recompute(round_id, unit_id, counts, learners_digest):
    """seal_digest by the recipe of docs/confirmation.md, from published values only."""
    return sha256(canonical({"round_id": round_id, "unit_id": unit_id,
                             "counts": {"total": counts["total"], "by_grade": counts["by_grade"]},
                             "learners_digest": learners_digest}))


def learners_digest(people):
    """What a school can recompute from its own list: ``id_kind:id_number:grade`` lines."""
    return sha256("\n".join(sorted(f"{p['id_kind']}:{p['national_id'] or p['g_code']}:{p['grade']}"
                                   for p in people)))


def schools_digest(headcounts):
    """An LAO's: ``school_id:total:by_grade`` lines (``headcounts``: id -> by_grade)."""
    return sha256("\n".join(sorted(f"{i}:{sum(g.values())}:{canonical({k: v for k, v in g.items() if v})}"
                                   for i, g in headcounts.items())))


def event_of(collector, unit_id, version):
    return collector.wait_for(lambda e: e["org_unit"]["id"] == unit_id
                              and e["confirmation_version"] == version, 20)


def learner_ref(person):
    return {"learner_id": person["id"], "prefix": person["prefix"], "first_name": person["first_name"],
            "last_name": person["last_name"], "grade": person["grade"]}


def test_the_diff_after_revoke_shows_who_was_added_removed_and_changed(admin, tree, rnd):
    t, rid, sid = tree, rnd["id"], tree.id("school_a")
    school = t["school_a"]
    kept, edited, gone, back, renumbered = add_learners(school, rid, sid, ["p1", "p1", "p2", "p2", "p3"])

    # never sealed: nothing to compare with
    never = school.ok("GET", diff_path(rid, sid))
    assert never == {"unit_id": sid, "round_id": rid, "last_sealed_at": None, "sealed": False,
                     "added": [], "removed": [], "changed": [], "schools": [], "truncated": False,
                     "counts": {"then": None, "now": {"total": 5, "by_grade": {"p1": 2, "p2": 2, "p3": 1}}}}

    confirm(school, rid, sid)
    sealed = school.ok("GET", diff_path(rid, sid))
    assert sealed["sealed"] is True and sealed["last_sealed_at"]
    assert sealed["added"] == sealed["removed"] == sealed["changed"] == []
    assert sealed["counts"]["then"] == sealed["counts"]["now"] == never["counts"]["now"]

    revoke(t["lao_a"], rid, sid)
    newcomer = add_learner(school, rid, sid, "k1")
    edited = school.ok("PATCH", f"/learners/{edited['id']}",
                       json={"last_name": "ใจงาม", "grade": "p2", "version": edited["version"]})
    school.ok("DELETE", f"/learners/{gone['id']}", 204, json={"reason": "moved_out"})
    school.ok("DELETE", f"/learners/{back['id']}", 204, json={"reason": "other", "note": "ลบผิดคน"})
    school.ok("POST", f"/learners/{back['id']}/restore")
    renumbered_now = school.ok("PATCH", f"/learners/{renumbered['id']}", json={"national_id": national_id()})

    diff = school.ok("GET", diff_path(rid, sid))
    assert diff["sealed"] is False and diff["last_sealed_at"] == sealed["last_sealed_at"]
    assert diff["added"] == [learner_ref(newcomer)]
    assert diff["removed"] == [dict(learner_ref(gone), removal_reason="moved_out")]
    assert diff["changed"] == [
        {"learner_id": edited["id"], "first_name": edited["first_name"], "last_name": "ใจงาม",
         "fields": {"last_name": {"before": "ระบบ", "after": "ใจงาม"},
                    "grade": {"before": "p1", "after": "p2"}}, "id_changed": False},
        {"learner_id": renumbered["id"], "first_name": renumbered["first_name"],
         "last_name": renumbered["last_name"], "fields": {}, "id_changed": True}]
    assert diff["counts"] == {"then": {"total": 5, "by_grade": {"p1": 2, "p2": 2, "p3": 1}},
                              "now": {"total": 5, "by_grade": {"k1": 1, "p1": 1, "p2": 2, "p3": 1}}}
    assert diff["schools"] == [] and diff["truncated"] is False
    text = json.dumps(diff, ensure_ascii=False)
    for person in (kept, edited, gone, back, renumbered, newcomer, renumbered_now):
        assert person["national_id"] not in text  # never an ID number
    assert kept["id"] not in {e["learner_id"] for e in diff["added"] + diff["removed"] + diff["changed"]}

    # the levels above read it too; confirming again makes it the new reference
    assert t["lao_a"].ok("GET", diff_path(rid, sid)) == diff
    assert t["province"].ok("GET", diff_path(rid, sid))["changed"] == diff["changed"]
    confirm(school, rid, sid)
    again = school.ok("GET", diff_path(rid, sid))
    assert again["sealed"] is True and again["last_sealed_at"] > diff["last_sealed_at"]
    assert again["added"] == again["removed"] == again["changed"] == []
    assert again["counts"]["then"] == again["counts"]["now"] == diff["counts"]["now"]


def test_the_diff_of_an_lao_shows_the_headcounts_that_changed(admin, tree, rnd):
    t, rid, lid = tree, rnd["id"], tree.id("lao_a")
    other_b = t.unit("other_b", "other_school", "lao_a", affiliation="obec")["id"]
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 10, "p2": 5})
    set_headcount(t["lao_a"], rid, other_b, {"m1": 7})
    add_learners(t["school_a"], rid, t.id("school_a"), ["p1"])
    for key in ("school_a", "cdc_a", "lao_a"):
        confirm(t[key], rid, t.id(key))
    assert t["lao_a"].ok("GET", diff_path(rid, lid))["schools"] == []

    revoke(t["province"], rid, lid)
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 12, "p2": 5, "p3": 1})
    other_c = t.unit("other_c", "other_school", "lao_a", affiliation="obec")["id"]
    set_headcount(t["lao_a"], rid, other_c, {"k1": 4})

    diff = t["province"].ok("GET", diff_path(rid, lid))
    assert diff["sealed"] is False and diff["last_sealed_at"]
    assert diff["schools"] == [
        {"id": t.id("other_a"), "code": t.units["other_a"]["code"],
         "before": {"total": 15, "by_grade": {"p1": 10, "p2": 5}},
         "after": {"total": 18, "by_grade": {"p1": 12, "p2": 5, "p3": 1}}},
        {"id": other_c, "code": t.units["other_c"]["code"], "before": None,
         "after": {"total": 4, "by_grade": {"k1": 4}}}]
    assert diff["counts"] == {"then": {"total": 22, "by_grade": {"p1": 10, "p2": 5, "m1": 7}},
                              "now": {"total": 29, "by_grade": {"k1": 4, "p1": 12, "p2": 5, "p3": 1, "m1": 7}}}
    assert diff["added"] == diff["removed"] == diff["changed"] == []


def test_the_diff_is_refused_outside_the_subtree(admin, tree, rnd):
    t, rid = tree, rnd["id"]
    sid = t.id("school_a")
    refused(t["school_b"].get(diff_path(rid, sid)), "not_found", 404)
    refused(t["lao_b"].get(diff_path(rid, sid)), "not_found", 404)
    refused(t["school_a"].get(diff_path(rid, t.id("lao_a"))), "not_found", 404)  # the level above
    refused(t["school_a"].get(diff_path(99_999_999, sid)), "not_found", 404)     # no such round
    # a province seals nothing of its own
    refused(t["province"].get(diff_path(rid, t.id("province"))), "validation_error", 422)
    assert t["school_a"].get(diff_path(rid, sid), headers={"Authorization": "Bearer x"}).status_code == 401


def test_a_note_is_kept_with_the_confirmation_and_published(tree, rnd, events):
    t, rid, sid = tree, rnd["id"], tree.id("school_a")
    add_learners(t["school_a"], rid, sid, ["p1"])
    school = t["school_a"]
    refused(school.post(conf_path(rid, sid), json={"note": "ก" * 1001}), "validation_error", 422)
    refused(school.post(conf_path(rid, sid), json={"note": "เลขประจำตัว 1101700203451"}),
            "validation_error", 422)
    refused(school.post(conf_path(rid, sid), json={"remark": "x"}), "validation_error", 422)
    note = "ตรวจรายชื่อกับทะเบียนนักเรียนแล้ว\nครบทุกชั้น"
    status = confirm(school, rid, sid, json={"note": "  " + note + "  "})
    assert status["note"] == note
    assert school.ok("GET", conf_path(rid, sid))["note"] == note
    entry = next(e for e in school.ok("GET", conf_path(rid, sid) + "/history")["items"]
                 if e["action"] == "confirm")
    assert entry["details"]["note"] == note
    event = event_of(events, sid, status["version"])
    assert event["note"] == note

    # revoked: the note goes with the confirmation; confirmed again without a body: no note
    revoke(t["lao_a"], rid, sid)
    assert school.ok("GET", conf_path(rid, sid))["note"] is None
    status = confirm(school, rid, sid)
    assert status["note"] is None and event_of(events, sid, status["version"])["note"] is None
    revoke(t["lao_a"], rid, sid)
    assert confirm(school, rid, sid, json={"note": "   "})["note"] is None


def test_anyone_can_recompute_the_seal_digest(tree, rnd, events):
    t, rid = tree, rnd["id"]
    sid, lid = t.id("school_a"), t.id("lao_a")
    people = add_learners(t["school_a"], rid, sid, ["p1", "p2", "p2"])
    add_learners(t["cdc_a"], rid, t.id("cdc_a"), ["cdc"])
    add_learners(t["school_b"], rid, t.id("school_b"), ["m1"])
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 10, "p2": 5})

    def check(unit_id, counts_of, expected_learners):
        status = t["province"].ok("GET", conf_path(rid, unit_id))
        event = event_of(events, unit_id, status["version"])
        for seen in (status, event):
            counts = counts_of(seen)
            assert seen["learners_digest"] == expected_learners
            assert seen["seal_digest"] == recompute(rid, unit_id, counts, seen["learners_digest"])
        assert event["seal_digest"] == status["seal_digest"]
        return status["seal_digest"]

    own = lambda seen: seen["counts"]  # noqa: E731
    lao_counts = lambda seen: seen["other_schools"]  # noqa: E731  (an LAO seals its other schools)
    confirm(t["school_a"], rid, sid)
    first = check(sid, own, learners_digest(people))
    for key in ("cdc_a", "lao_a", "school_b", "lao_b"):
        confirm(t[key], rid, t.id(key))
    lao_first = check(lid, lao_counts, schools_digest({t.id("other_a"): {"p1": 10, "p2": 5}}))
    lao_b = check(t.id("lao_b"), lao_counts, schools_digest({}))
    confirm(t["province"], rid, t.id("province"))
    check(t.id("province"), own, sha256("\n".join(sorted([f"{lid}:{lao_first}", f"{t.id('lao_b')}:{lao_b}"]))))

    # a learner changed after a revoke: another digest, recomputed the same way
    revoke(t.admin, rid, t.id("province"))
    revoke(t["province"], rid, lid)
    revoke(t["lao_a"], rid, sid)
    assert t["school_a"].ok("GET", conf_path(rid, sid))["seal_digest"] is None
    people[0] = t["school_a"].ok("PATCH", f"/learners/{people[0]['id']}", json={"grade": "p3"})
    confirm(t["school_a"], rid, sid)
    second = check(sid, own, learners_digest(people))
    assert second != first
    set_headcount(t["lao_a"], rid, t.id("other_a"), {"p1": 10, "p2": 6})
    confirm(t["lao_a"], rid, lid)
    assert check(lid, lao_counts, schools_digest({t.id("other_a"): {"p1": 10, "p2": 6}})) != lao_first
