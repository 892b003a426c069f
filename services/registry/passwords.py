"""Passwords: hashed with argon2, and refused when easy to guess.

A new password (an account's first, a reset, a change, the first department
account in production) must be at least 8 characters and score at least
``LEC_PASSWORD_MIN_SCORE`` (3 of 4) in zxcvbn's estimate of how many guesses it
takes, which also knows the most common passwords (``12345678`` and
``password`` among the first) and counts the account's own name against it.
The first 64 characters are judged (the estimate grows slow on long input; a
password strong in its first 64 is strong).

Hashes are argon2id with ``LEC_ARGON2_MEMORY_KIB``, ``LEC_ARGON2_TIME_COST`` and
``LEC_ARGON2_PARALLELISM`` (by default m=7168 KiB, t=5, p=1: the row of OWASP's
Password Storage Cheat Sheet that costs least CPU per sign-in, see
docs/security.md). A hash records its own parameters, so one made with others
still verifies; :func:`needs_rehash` tells a sign-in to store it again with the
current ones.
"""
import functools

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from zxcvbn import zxcvbn

from services.common import settings

JUDGED_LENGTH = 64
COMMON_RANK = 100_000  # within the most used passwords of zxcvbn's list: "a common password"


@functools.lru_cache(maxsize=4)
def _hashing(memory_kib, time_cost, parallelism):
    """The hasher of these parameters and the stand-in hash an unknown name is checked
    against (the same work as for a real account)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                            type=Type.ID)
    return hasher, hasher.hash("a password nobody has")


def _current():
    configured = settings.current()
    return _hashing(configured.argon2_memory_kib, configured.argon2_time_cost,
                    configured.argon2_parallelism)


def hash_password(password, cooperative=True):
    """The argon2 hash; in a native thread unless ``cooperative`` is False (start-up)."""
    hasher = _current()[0]
    return tpool.execute(hasher.hash, password) if cooperative else hasher.hash(password)


def verify(password_hash, password):
    """One argon2 verification (against a stand-in hash when there is no account)."""
    hasher, dummy = _current()
    try:
        return tpool.execute(hasher.verify, password_hash or dummy, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_parameters(password_hash):
    """``argon2id m=7168,t=5,p=1``: what a hash was made with (never its salt or digest)."""
    parts = str(password_hash).split("$")
    return f"{parts[1]} {parts[3]}" if len(parts) == 6 else "unknown"


def needs_rehash(password_hash):
    """The hash was made with other parameters (or another argon2 variant) than the current."""
    return _current()[0].check_needs_rehash(password_hash)


def min_score():
    return settings.current().password_min_score


def _common(result, length):
    """The whole password is one entry of the common-password list (perhaps in l33t or reversed)."""
    return any(m.get("dictionary_name") == "passwords" and m.get("rank", COMMON_RANK + 1) <= COMMON_RANK
               and m["i"] == 0 and m["j"] == length - 1 for m in result["sequence"])


def weakness(password, user_inputs=()):
    """Why ``password`` is refused, in plain words; None when it is good enough."""
    judged = password[:JUDGED_LENGTH]
    result = zxcvbn(judged, user_inputs=[str(u) for u in user_inputs if u])
    if result["score"] >= min_score():
        return None
    if _common(result, len(judged)):
        return "this is one of the most commonly used passwords: choose another"
    warning = (result["feedback"].get("warning") or "").rstrip(".")
    reason = f" ({warning[0].lower()}{warning[1:]})" if warning else ""
    return (f"this password is too easy to guess{reason}: use a longer one, for example a few "
            "unrelated words")


def check_strength(password, user_inputs=()):
    """``weakness``, without holding up the service's other green threads."""
    return tpool.execute(weakness, password, tuple(user_inputs))
