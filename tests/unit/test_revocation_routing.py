"""Revocation requests, pure: where a request goes and who may answer it."""
from services.common.context import Actor
from services.confirmation.domain import CONFIRMED, OPEN, SEALING
from services.confirmation.domain import a_request_is_answered_by_the_unit_it_goes_to_or_above as _answer_problem
from services.confirmation.domain import revocation_request_goes_to_the_lowest_ancestor_able_to_act as route

SCHOOL = "/1/7/42/43/"


def rows(**states):
    """``rows(u42=CONFIRMED)`` -> {42: that state}."""
    return {int(k[1:]): v for k, v in states.items()}


def user(unit_id, path, role):
    return Actor(user_id=5, username="u", role=role, org_unit_id=unit_id, path=path)


def test_a_request_goes_to_the_lowest_unit_above_not_confirmed():
    assert route(SCHOOL, rows(u43=CONFIRMED)) == "/1/7/42/"
    assert route(SCHOOL, rows(u43=CONFIRMED, u42=CONFIRMED)) == "/1/7/"
    assert route(SCHOOL, rows(u43=CONFIRMED, u42=SEALING)) == "/1/7/"  # the LAO is confirming
    assert route(SCHOOL, rows(u43=CONFIRMED, u42=CONFIRMED, u7=CONFIRMED)) == "/1/"
    assert route(SCHOOL, rows(u43=CONFIRMED, u42=CONFIRMED, u7=CONFIRMED, u1=CONFIRMED)) is None
    assert route("/1/7/42/", rows(u42=CONFIRMED, u7=OPEN)) == "/1/7/"


def test_the_routed_unit_or_one_above_it_answers_unless_confirmed_itself():
    lao, province = user(42, "/1/7/42/", "lao"), user(7, "/1/7/", "province")
    school, other_lao = user(43, SCHOOL, "institution"), user(44, "/1/7/44/", "lao")
    department = user(1, "/1/", "department")
    open_lao = rows(u43=CONFIRMED)
    assert _answer_problem(lao, SCHOOL, open_lao) is None
    assert _answer_problem(province, SCHOOL, open_lao) is None
    assert _answer_problem(department, SCHOOL, open_lao) is None
    assert "above" in _answer_problem(school, SCHOOL, open_lao)
    assert _answer_problem(other_lao, SCHOOL, open_lao) is not None
    confirmed_lao = rows(u43=CONFIRMED, u42=CONFIRMED)
    assert "own confirmation" in _answer_problem(lao, SCHOOL, confirmed_lao)
    assert _answer_problem(province, SCHOOL, confirmed_lao) is None
    finalised = rows(u43=CONFIRMED, u42=CONFIRMED, u7=CONFIRMED, u1=CONFIRMED)
    assert _answer_problem(department, SCHOOL, finalised) is not None
