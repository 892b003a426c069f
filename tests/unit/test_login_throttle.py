"""The rules of login throttling (services.registry.throttle) and of passwords."""
import datetime as dt
from types import SimpleNamespace

import pytest

from services.registry import throttle
from services.registry.passwords import weakness

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)
POLICY = throttle.Policy(pair_free=5, address_free=30, base_delay=1, max_delay=900, window=3600,
                         lock_after=50)


def row(kind, failures=0, first=NOW, blocked_until=None, locked_at=None, pending=0,
        pending_until=NOW + dt.timedelta(seconds=30)):
    return SimpleNamespace(kind=kind, name="", address="", failures=failures, first_failure_at=first,
                           last_failure_at=first, blocked_until=blocked_until, locked_at=locked_at,
                           pending=pending, pending_until=pending_until)


def test_delays_grow_after_the_free_failures_up_to_the_cap():
    waits = [throttle.delay(n, 5, 1, 900) for n in range(1, 18)]
    assert waits[:5] == [0] * 5
    assert waits[5:11] == [1, 2, 4, 8, 16, 32]
    assert waits[-1] == 900 and max(waits) == 900
    assert throttle.delay(10 ** 6, 5, 1, 900) == 900


def test_each_failure_counts_and_sets_the_next_delay():
    state = row(throttle.PAIR)
    for n in range(1, 8):
        values = throttle.counted(state, NOW, POLICY)
        assert values["failures"] == n
        wait = (values["blocked_until"] - NOW).total_seconds() if values["blocked_until"] else 0
        assert wait == throttle.delay(n, 5, 1, 900)
        state = row(throttle.PAIR, n)
    # an hour after the first failure of the window, the count starts again
    old = row(throttle.PAIR, 7, first=NOW - dt.timedelta(hours=2))
    assert throttle.counted(old, NOW, POLICY)["failures"] == 1


def test_an_account_is_locked_after_many_failures_and_never_forgets():
    state = row(throttle.ACCOUNT, 49, first=NOW - dt.timedelta(days=3))
    values = throttle.counted(state, NOW, POLICY)
    assert values["failures"] == 50 and values["locked_at"] == NOW and values["blocked_until"] is None


def test_refusals_say_how_long_to_wait_or_that_the_account_is_locked():
    past = NOW - dt.timedelta(seconds=1)
    assert throttle.refusal([row(throttle.PAIR, 9, blocked_until=past)], NOW, POLICY) is None
    wait = throttle.refusal([row(throttle.PAIR, 9, blocked_until=NOW + dt.timedelta(seconds=7.2)),
                             row(throttle.ADDRESS, 40, blocked_until=NOW + dt.timedelta(seconds=3))],
                            NOW, POLICY)
    assert wait.code == "rate_limited" and wait.extra == {"retry_after": 8}
    locked = throttle.refusal([row(throttle.ACCOUNT, 50, locked_at=NOW)], NOW, POLICY)
    assert locked.code == "rate_limited" and locked.extra == {"locked": True}
    assert "a user of a unit above" in locked.description


def test_attempts_under_way_count_before_they_fail():
    """Beyond what a key may still fail freely, one attempt at a time: a burst sent in
    parallel cannot try more passwords than the delays allow."""
    assert throttle.refusal([row(throttle.PAIR, 3, pending=1)], NOW, POLICY) is None
    refused = throttle.refusal([row(throttle.PAIR, 3, pending=2)], NOW, POLICY)
    assert refused.extra == {"retry_after": 1}
    assert throttle.refusal([row(throttle.PAIR, 8)], NOW, POLICY) is None  # past the free ones, alone
    assert throttle.refusal([row(throttle.PAIR, 8, pending=1)], NOW, POLICY) is not None
    # an attempt never resolved (its process died) stops counting after a while
    lost = row(throttle.PAIR, 8, pending=1, pending_until=NOW - dt.timedelta(seconds=1))
    assert throttle.refusal([lost], NOW, POLICY) is None
    # an account name is never held up by attempts under way, only locked
    assert throttle.refusal([row(throttle.ACCOUNT, 49, pending=9)], NOW, POLICY) is None


@pytest.mark.parametrize("address, key", [
    ("203.0.113.9", "203.0.113.9"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),   # a host chooses freely within its /64
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:203.0.113.9", "203.0.113.9"),
    (None, "unknown"), ("", "unknown"), ("x" * 500, "unknown"),
])
def test_client_keys(address, key):
    assert throttle.client_key(address) == key


def test_names_count_without_regard_to_case():
    assert throttle.login_keys("Somchai.K", "203.0.113.9") == [
        ("account", "somchai.k", ""), ("address", "", "203.0.113.9"), ("pair", "somchai.k", "203.0.113.9")]


@pytest.mark.parametrize("password", ["12345678", "password", "P@ssw0rd", "qwertyuiop", "aaaaaaaaaa",
                                      "Password1!"])
def test_weak_and_common_passwords_are_refused(password):
    assert weakness(password)


def test_the_account_name_counts_against_the_password():
    assert weakness("somchai.k-2569", ("somchai.k",))


@pytest.mark.parametrize("password", ["demo-pass-2569", "ใหม่-รหัส-2569", "correct horse battery staple",
                                      "test-password-1", "x7#Lq9!vR2" * 30])
def test_good_passwords_pass(password):
    assert weakness(password) is None
