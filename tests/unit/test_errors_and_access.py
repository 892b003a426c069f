import pytest
from nameko.exceptions import deserialize, serialize

from gateway.access import Authenticated, Public, check_policies
from gateway.app import create_app
from gateway.config import GatewayConfig
from services.common.errors import HTTP_STATUS, LecError


def test_lec_error_survives_the_broker_with_its_extra_fields():
    exc = LecError("duplicate_learner", "held elsewhere", {"held_by": 42, "pending": [1, 2]})
    back = deserialize(serialize(exc))
    assert isinstance(back, LecError)
    assert back.code == "duplicate_learner"
    assert back.extra == {"held_by": 42, "pending": [1, 2]}  # numbers stay numbers
    assert back.status == 409
    assert back.to_dict()["held_by"] == 42


def test_every_contract_code_has_its_status():
    expected = {"invalid_credentials": 401, "unauthorized": 401, "forbidden": 403, "not_found": 404,
                "validation_error": 422, "invalid_national_id": 422, "invalid_g_code": 422,
                "age_out_of_range": 422, "duplicate_learner": 409, "round_not_open": 409,
                "unit_confirmed": 409, "children_not_confirmed": 409, "already_confirmed": 409,
                "not_confirmed": 409, "parent_confirmed": 409, "conflict": 409,
                "payload_too_large": 413, "rate_limited": 429, "service_unavailable": 503}
    for code, status in expected.items():
        assert HTTP_STATUS[code] == status, code


class Forgetful:
    policies = {"GET": Authenticated()}

    def on_get(self, req, resp):
        pass

    def on_delete(self, req, resp):  # no policy: must not be served
        pass


class Fine:
    policies = {"GET": Public()}

    def on_get(self, req, resp):
        pass


def test_a_route_without_a_policy_stops_the_app_from_starting():
    check_policies([("/fine", Fine())])
    with pytest.raises(RuntimeError, match="DELETE /forgetful"):
        check_policies([("/fine", Fine()), ("/forgetful", Forgetful())])


def test_the_real_app_has_a_policy_for_every_route():
    # create_app itself runs check_policies; it must succeed for the shipped routes
    config = GatewayConfig(listen_events=False)
    assert create_app(config) is not None
