"""The checks a unit's data must pass before it is confirmed: the rule catalogue.

A round's settings hold its rule set as data (``settings["checks"]``): for each
rule its severity (``error`` blocks a confirmation; ``query`` blocks it until
the unit explains it in writing), whether it runs, its parameters and its Thai
and English messages. The department changes them per round; what it leaves
out takes the defaults below. The engine that applies them is
``services.enrollment.checks``; the rounds service validates them
(``services.rounds.schemas``).

Messages are templates: ``{name}`` takes a value of the finding (``age``,
``grade``, ``low``, ``high``, ``before``, ``now``, ``share``, ``removed``,
``school``, ``other``...) or of the rule's parameters.
"""
import hashlib
import json
from typing import Any, Dict, Tuple

SEVERITIES = ("error", "query")

# Age in completed years at the census date that each school grade expects
# (a child enters ป.1 at six; in June some are already seven).
GRADE_AGES = {
    "k1": [3, 4], "k2": [4, 5], "k3": [5, 6],
    "p1": [6, 7], "p2": [7, 8], "p3": [8, 9], "p4": [9, 10], "p5": [10, 11], "p6": [11, 12],
    "m1": [12, 13], "m2": [13, 14], "m3": [14, 15], "m4": [15, 16], "m5": [16, 17], "m6": [17, 18],
}

# code -> default rule. ``applies_to``: the level whose confirmation the rule
# concerns ("institution": schools and CDCs; "lao").
DEFAULT_RULES: Dict[str, Dict[str, Any]] = {
    "age_grade_implausible": {
        "severity": "error", "enabled": True, "applies_to": "institution",
        "params": {"years": 2},
        "message": {
            "th": "อายุ {age} ปี ณ วันเก็บข้อมูล ห่างจากช่วงอายุของชั้น {grade_th} ({low}–{high} ปี) เกิน {years} ปี ตรวจสอบวันเกิดหรือชั้นเรียน",
            "en": "Aged {age} at the census date: more than {years} years outside the {low}–{high} band of grade {grade}; check the birth date or the grade",
        },
    },
    "age_grade_outside": {
        # up to age_grade_implausible's ``years`` outside the band
        "severity": "query", "enabled": True, "applies_to": "institution", "params": {},
        "message": {
            "th": "อายุ {age} ปี ณ วันเก็บข้อมูล อยู่นอกช่วงอายุของชั้น {grade_th} ({low}–{high} ปี) โปรดชี้แจง",
            "en": "Aged {age} at the census date, outside the {low}–{high} band of grade {grade}; please explain",
        },
    },
    "no_active_learners": {
        "severity": "query", "enabled": True, "applies_to": "institution", "params": {},
        "message": {
            "th": "ยังไม่มีผู้เรียนในรอบนี้ หากไม่มีผู้เรียนจริง โปรดชี้แจง",
            "en": "There are no learners in this round; if that is so, please explain",
        },
    },
    "total_changed": {
        "severity": "query", "enabled": True, "applies_to": "both",
        "params": {"share": 0.2, "min_change": 5},
        "message": {
            "th": "จำนวนรวมเปลี่ยนจาก {before} เป็น {now} คน ({change_pct}) เทียบกับรอบก่อน เกินร้อยละ {share_pct} โปรดชี้แจง",
            "en": "The total moved from {before} to {now} ({change_pct}) against the previous round, more than {share_pct}%; please explain",
        },
    },
    "not_found_removals": {
        "severity": "query", "enabled": True, "applies_to": "institution",
        "params": {"share": 0.1, "min_removed": 3},
        "message": {
            "th": "จำหน่ายผู้เรียนด้วยเหตุ \"ไม่พบตัว\" {removed} คน จาก {of} คน เกินร้อยละ {share_pct} โปรดชี้แจง",
            "en": "{removed} of {of} learners removed as not found, more than {share_pct}%; please explain",
        },
    },
    "likely_duplicate": {
        "severity": "query", "enabled": True, "applies_to": "institution", "params": {},
        "message": {
            "th": "ชื่อ นามสกุล และวันเกิดเดียวกับผู้เรียนอีกคนที่มีเลขประจำตัวต่างกัน ({other_th}) อาจเป็นคนเดียวกัน โปรดตรวจสอบหรือชี้แจง",
            "en": "Same first name, last name and birth date as another learner under a different ID ({other}); it may be the same child: check or explain",
        },
    },
    "headcount_missing": {
        "severity": "error", "enabled": True, "applies_to": "lao", "params": {},
        "message": {
            "th": "ยังไม่ได้กรอกจำนวนนักเรียนของโรงเรียน {school} ในรอบนี้ (หากไม่มีนักเรียน ให้กรอก 0)",
            "en": "No headcount entered for school {school} in this round (enter 0 for a school with no pupils)",
        },
    },
    "headcount_changed": {
        "severity": "query", "enabled": True, "applies_to": "lao",
        "params": {"share": 0.2, "min_change": 5},
        "message": {
            "th": "จำนวนนักเรียนของโรงเรียน {school} เปลี่ยนจาก {before} เป็น {now} คน ({change_pct}) เทียบกับรอบก่อน โปรดชี้แจง",
            "en": "The headcount of school {school} moved from {before} to {now} ({change_pct}) against the previous round; please explain",
        },
    },
}

PARAM_LIMITS: Dict[str, Tuple[Any, Any]] = {"years": (0, 20), "share": (0.0, 10.0), "min_change": (0, 100_000),
                "min_removed": (0, 100_000)}


def default_checks():
    return {"grade_ages": {g: list(b) for g, b in GRADE_AGES.items()},
            "rules": {code: _rule_copy(rule) for code, rule in DEFAULT_RULES.items()}}


def _rule_copy(rule):
    return {"severity": rule["severity"], "enabled": rule["enabled"], "params": dict(rule["params"]),
            "message": dict(rule["message"])}


def rules_of(settings):
    """The round's checks, every rule present (defaults where the round is silent)."""
    given = (settings or {}).get("checks") or {}
    merged = default_checks()
    merged["grade_ages"].update({g: list(b) for g, b in (given.get("grade_ages") or {}).items()
                                 if g in GRADE_AGES})
    for code, rule in (given.get("rules") or {}).items():
        if code not in merged["rules"]:
            continue
        target = merged["rules"][code]
        for key in ("severity", "enabled"):
            if key in rule:
                target[key] = rule[key]
        target["params"].update(rule.get("params") or {})
        target["message"].update(rule.get("message") or {})
    return merged


def rules_hash(checks, census_date):
    """What the stored findings of a round were computed with."""
    text = json.dumps({"checks": checks, "census_date": str(census_date)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class _Blank(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def render(template, values):
    """A message template filled with a finding's values (unknown names stay as written)."""
    return str(template).format_map(_Blank(values))
