"""Passwords: hashed with argon2, and refused when easy to guess.

A new password (an account's first, a reset, a change, the first department
account in production) must be at least 8 characters and score at least
``LEC_PASSWORD_MIN_SCORE`` (3 of 4) in zxcvbn's estimate of how many guesses it
takes, which also knows the most common passwords (``12345678`` and
``password`` among the first) and counts the account's own name against it.
The first 64 characters are judged (the estimate grows slow on long input; a
password strong in its first 64 is strong).
"""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from zxcvbn import zxcvbn

from services.common import settings

JUDGED_LENGTH = 64
COMMON_RANK = 100_000  # within the most used passwords of zxcvbn's list: "a common password"

_hasher = PasswordHasher()
# what an unknown name is checked against: the same work as for a real account
_DUMMY_HASH = _hasher.hash("a password nobody has")


def hash_password(password, cooperative=True):
    """The argon2 hash; in a native thread unless ``cooperative`` is False (start-up)."""
    return tpool.execute(_hasher.hash, password) if cooperative else _hasher.hash(password)


def verify(password_hash, password):
    """One argon2 verification (against a stand-in hash when there is no account)."""
    try:
        return tpool.execute(_hasher.verify, password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


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
