"""The gateway's check of a token against its account: active, and of the
account's current token version; the request acts with the account's role and
unit as the registry holds them; cached, dropped by events, and kept in use
(not refused wholesale) while the registry is away."""
import pytest

from gateway.access import GATEWAY, TokenStates
from services.common.context import Actor
from services.common.errors import LecError


def state(**over):
    base = {"active": True, "token_version": 1, "username": "u", "role": "institution",
            "org_unit_id": 3, "path": "/1/2/3/"}
    base.update(over)
    return base


class FakeRegistry:
    def __init__(self):
        self.states = {"7": state()}
        self.calls = 0
        self.down = False

    def call(self, service, method, ids, actor=None):
        assert (service, method) == ("registry", "token_states")
        assert actor == GATEWAY  # the gateway's own lookup names the system actor
        self.calls += 1
        if self.down:
            raise LecError("service_unavailable", "registry away")
        return {str(i): self.states[str(i)] for i in ids if str(i) in self.states}


def refused(tokens, user_id, version):
    with pytest.raises(LecError) as caught:
        tokens.actor(user_id, version)
    return caught.value.code


def test_tokens_of_the_current_version_pass_and_are_cached():
    registry = FakeRegistry()
    tokens = TokenStates(registry, ttl=60)
    assert tokens.actor(7, 1) == Actor(7, "u", "institution", 3, "/1/2/3/")
    tokens.actor(7, 1)
    assert registry.calls == 1
    assert refused(tokens, 7, 0) == "unauthorized"


def test_the_request_acts_with_the_registrys_role_and_unit():
    """Whatever a token might claim, the actor is the account as the registry has it."""
    registry = FakeRegistry()
    registry.states["7"] = state(role="lao", org_unit_id=2, path="/1/2/")
    actor = TokenStates(registry, ttl=60).actor(7, 1)
    assert (actor.role, actor.org_unit_id, actor.path) == ("lao", 2, "/1/2/")


def test_a_state_that_is_not_a_valid_actor_is_refused():
    registry = FakeRegistry()
    registry.states["7"] = state(path="/1/2/9/")  # not the path of unit 3
    assert refused(TokenStates(registry, ttl=60), 7, 1) == "unauthorized"


def test_a_change_ends_older_tokens_once_the_entry_is_dropped():
    registry = FakeRegistry()
    tokens = TokenStates(registry, ttl=60)
    tokens.actor(7, 1)
    registry.states["7"] = state(token_version=2)
    tokens.actor(7, 1)  # still cached: until the event (or the TTL) drops it
    tokens.invalidate(7)
    assert refused(tokens, 7, 1) == "unauthorized"
    tokens.actor(7, 2)
    registry.states["7"] = state(active=False, token_version=3)
    tokens.invalidate("7")
    assert refused(tokens, 7, 3) == "unauthorized"  # disabled: no version passes


def test_unknown_accounts_are_refused():
    assert refused(TokenStates(FakeRegistry(), ttl=60), 99, 1) == "unauthorized"


def test_with_the_registry_away_the_last_word_stands_and_no_word_is_a_503():
    registry = FakeRegistry()
    tokens = TokenStates(registry, ttl=0)  # every check asks again
    tokens.actor(7, 1)
    registry.down = True
    tokens.actor(7, 1)  # expired, but what the registry said last
    tokens.clear()
    assert refused(tokens, 7, 1) == "service_unavailable"
