"""Input rules every request obeys, wherever it enters, each failing with the
stable ``validation_error``:

- text (keys too) holds no NUL character and no unpaired surrogate: PostgreSQL
  cannot store the one, UTF-8 cannot carry the other;
- an integer fits PostgreSQL's bigint (:data:`BIGINT_MIN` .. :data:`BIGINT_MAX`),
  an id too (:func:`as_id`);
- a JSON body is nested at most as deep as its reader allows (the gateway's
  ``LEC_JSON_MAX_DEPTH``);
- list paging: ``limit`` 1..:data:`MAX_LIMIT` (default 50), ``offset``
  0..:data:`MAX_OFFSET`.

:func:`load` applies them before and after the marshmallow schema, so a service
refuses such input even when it did not come through the gateway.
"""
import re

import marshmallow as ma

from services.common.errors import validation_error

BIGINT_MAX = 2 ** 63 - 1
BIGINT_MIN = -2 ** 63
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000

UNSAFE_TEXT = "must not contain NUL characters or unpaired surrogates"
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def unsafe(text):
    """Does ``text`` hold a NUL character or an unpaired surrogate?"""
    return _UNSAFE.search(text) is not None


def printable(text):
    """``text`` with NUL characters and surrogates written as ``\\uXXXX`` (for messages)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _where(path):
    """``("counts", "k1")`` -> ``"counts.k1"``; the top level is ``_schema``."""
    return ".".join(printable(str(p)) for p in path) or "_schema"


def check_input(data, max_depth=None, checked=None):
    """Refuse ``data`` (parsed JSON, a form, RPC arguments) holding unsafe text,
    an integer beyond bigint or, with ``max_depth``, containers nested deeper
    than that: ``validation_error`` naming where (``field.sub.0``).

    ``checked``: a set of the ids of containers checked already, skipped (the ids
    of those walked now are added; the caller keeps them alive meanwhile).
    Walks without recursion, so a deep structure cannot exhaust the stack."""
    problem = _problem(data)
    if problem:
        raise validation_error({"_schema": [problem]})
    stack: list = [(data, (), 1)]
    while stack:
        container, path, depth = stack.pop()
        if not isinstance(container, (dict, list, tuple)):
            continue
        if checked is not None:
            if id(container) in checked:
                continue
            checked.add(id(container))
        if max_depth is not None and depth > max_depth:
            raise validation_error({_where(path): [f"is nested deeper than {max_depth} levels"]},
                                   "the JSON body is nested too deeply")
        pairs = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in pairs:
            if isinstance(key, str) and _UNSAFE.search(key):
                raise validation_error({_where(path + (key,)): [f"the name {UNSAFE_TEXT}"]})
            problem = _problem(item)
            if problem:
                raise validation_error({_where(path + (key,)): [problem]})
            if isinstance(item, (dict, list, tuple)):
                stack.append((item, path + (key,), depth + 1))


def _problem(value):
    """What is wrong with a scalar, or None."""
    kind = type(value)
    if kind is str:
        return UNSAFE_TEXT if _UNSAFE.search(value) else None
    if kind is int and not BIGINT_MIN <= value <= BIGINT_MAX:
        return "is out of range"
    return None


def load(schema, data, partial=False):
    if not isinstance(data, dict):
        raise validation_error({"_schema": ["expected a JSON object"]})
    checked: set = set()
    check_input(data, checked=checked)
    try:
        loaded = schema.load(data, partial=partial)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise validation_error(messages)
    # numbers a field converted (1e300 as an Integer) must fit too; what a field passed on
    # as it came (a list of raw values) was checked above
    check_input(loaded, checked=checked)
    return loaded


def as_id(value, name="id"):
    """``value`` as an id: an integer that fits PostgreSQL's bigint (no such row
    exists beyond it), else ``validation_error`` naming ``name``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise validation_error({name: ["must be an integer"]}) from None
    if not BIGINT_MIN <= number <= BIGINT_MAX:
        raise validation_error({name: ["is out of range"]})
    return number


def _bounded(value, name, default, low, high, errors):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = ["must be an integer"]
        return None
    if not low <= number <= high:
        errors[name] = [f"must be between {low} and {high}"]
    return number


def page(limit, offset):
    """List paging of the contract: ``limit`` 1..1000 (default 50), ``offset``
    0..1,000,000,000 (default 0)."""
    errors: dict = {}
    limit = _bounded(limit, "limit", 50, 1, MAX_LIMIT, errors)
    offset = _bounded(offset, "offset", 0, 0, MAX_OFFSET, errors)
    if errors:
        raise validation_error(errors)
    return limit, offset
