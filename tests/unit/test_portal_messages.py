"""The portal's common catalogue (gateway/static/core/messages.js) has a Thai and an English
message for every error code the API answers, and a name for every grade, unit type, state
and removal reason."""
import re
from pathlib import Path

from gateway.errors import FALCON_CODES
from services.common.vocabulary import STATUSES, UNIT_TYPES
from services.common.errors import HTTP_STATUS
from services.enrollment.domain import REMOVAL_REASONS
from services.rounds.schemas import ROUND_STATES

MESSAGES = Path(__file__).resolve().parents[2] / "gateway" / "static" / "core" / "messages.js"
GRADES = ["k1", "k2", "k3", "p1", "p2", "p3", "p4", "p5", "p6", "m1", "m2", "m3", "m4", "m5", "m6", "cdc"]


def catalogues():
    text = MESSAGES.read_text(encoding="utf-8")
    th_at, en_at = text.index("\n  th: {"), text.index("\n  en: {")
    pattern = re.compile(r'"([\w.]+)":\s*"((?:[^"\\]|\\.)*)"')
    th = dict(pattern.findall(text[th_at:en_at]))
    en = dict(pattern.findall(text[en_at:]))
    return th, en


def test_every_error_code_has_a_thai_and_an_english_message():
    th, en = catalogues()
    codes = set(HTTP_STATUS) | set(FALCON_CODES.values()) | {"checks_failed", "network"}
    for code in sorted(codes):
        assert th.get(f"error.{code}"), f"no Thai message for {code}"
        assert en.get(f"error.{code}"), f"no English message for {code}"
        assert re.search(r"[\u0E00-\u0E7F]", th[f"error.{code}"]), f"the Thai message of {code} is not Thai"


def test_grades_unit_types_states_and_reasons_are_named_in_both_languages():
    th, en = catalogues()
    keys = ([f"grade.{g}" for g in GRADES] + [f"type.{t}" for t in UNIT_TYPES]
            + [f"state.{s}" for s in (*ROUND_STATES, *STATUSES, "confirmed", "sealing")]
            + [f"reason.{r}" for r in REMOVAL_REASONS] + ["sex.M", "sex.F"])
    for key in keys:
        assert th.get(key) and en.get(key), key
    assert [th[f"grade.{g}"] for g in ("k1", "p6", "m6", "cdc")] == ["อ.1", "ป.6", "ม.6", "เด็กเล็ก"]


def test_both_languages_have_the_same_keys():
    th, en = catalogues()
    assert sorted(set(th) ^ set(en)) == []
