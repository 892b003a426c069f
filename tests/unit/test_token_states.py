"""The gateway's check of a token against its account: active, and of the
account's current token version; cached, dropped by events, and kept in use
(not refused wholesale) while the registry is away."""
import pytest

from gateway.access import TokenStates
from services.common.context import Actor
from services.common.errors import LecError


class FakeRegistry:
    def __init__(self):
        self.states = {"7": {"active": True, "token_version": 1}}
        self.calls = 0
        self.down = False

    def call(self, service, method, ids):
        assert (service, method) == ("registry", "token_states")
        self.calls += 1
        if self.down:
            raise LecError("service_unavailable", "registry away")
        return {str(i): self.states[str(i)] for i in ids if str(i) in self.states}


ACTOR = Actor(user_id=7, username="u", role="institution", org_unit_id=3, path="/1/2/3/")


def test_tokens_of_the_current_version_pass_and_are_cached():
    registry = FakeRegistry()
    tokens = TokenStates(registry, ttl=60)
    tokens.check(ACTOR, 1)
    tokens.check(ACTOR, 1)
    assert registry.calls == 1
    with pytest.raises(LecError) as caught:
        tokens.check(ACTOR, 0)
    assert caught.value.code == "unauthorized"


def test_a_change_ends_older_tokens_once_the_entry_is_dropped():
    registry = FakeRegistry()
    tokens = TokenStates(registry, ttl=60)
    tokens.check(ACTOR, 1)
    registry.states["7"] = {"active": True, "token_version": 2}
    tokens.check(ACTOR, 1)  # still cached: until the event (or the TTL) drops it
    tokens.invalidate(7)
    with pytest.raises(LecError):
        tokens.check(ACTOR, 1)
    tokens.check(ACTOR, 2)
    registry.states["7"] = {"active": False, "token_version": 3}
    tokens.invalidate("7")
    with pytest.raises(LecError):
        tokens.check(ACTOR, 3)  # disabled: no version passes


def test_unknown_accounts_are_refused():
    tokens = TokenStates(FakeRegistry(), ttl=60)
    with pytest.raises(LecError) as caught:
        tokens.check(Actor(user_id=99, username="x", role="lao", org_unit_id=2, path="/1/2/"), 1)
    assert caught.value.code == "unauthorized"


def test_with_the_registry_away_the_last_word_stands_and_no_word_is_a_503():
    registry = FakeRegistry()
    tokens = TokenStates(registry, ttl=0)  # every check asks again
    tokens.check(ACTOR, 1)
    registry.down = True
    tokens.check(ACTOR, 1)  # expired, but what the registry said last
    tokens.clear()
    with pytest.raises(LecError) as caught:
        tokens.check(ACTOR, 1)
    assert caught.value.code == "service_unavailable"
