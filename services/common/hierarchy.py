"""The org-unit hierarchy: levels, materialised paths and the rules of authority.

A unit's ``path`` lists the ids from the root down to the unit itself, as
``/1/7/42/``. "A is an ancestor of B" is then a prefix test, which the
gateway and every service can answer without a query.
"""

from services.common.vocabulary import LEVEL_OF_TYPE  # the words are defined once, there

# which type of unit may sit under which
PARENT_TYPE = {
    "department": None,
    "province": "department",
    "lao": "province",
    "school": "lao",
    "cdc": "lao",
    "other_school": "lao",
}

# the role of an account follows the level of its unit
ROLE_OF_TYPE = {
    "department": "department",
    "province": "province",
    "lao": "lao",
    "school": "institution",
    "cdc": "institution",
}
ROLES = ("department", "province", "lao", "institution")


def level_of(unit_type):
    """The level whose deadline binds a unit of ``unit_type``."""
    return LEVEL_OF_TYPE[unit_type]


def make_path(parent_path, unit_id):
    return f"{parent_path or '/'}{unit_id}/"


def path_ids(path):
    """``/1/7/42/`` -> ``[1, 7, 42]``."""
    return [int(p) for p in path.strip("/").split("/") if p]


def unit_id_of(path):
    return path_ids(path)[-1]


def parent_path_of(path):
    ids = path_ids(path)
    if len(ids) < 2:
        return None
    return "/" + "/".join(str(i) for i in ids[:-1]) + "/"


def is_ancestor_or_self(ancestor_path, path):
    """True when the unit at ``ancestor_path`` is the unit at ``path`` or above it."""
    return bool(ancestor_path) and bool(path) and path.startswith(ancestor_path)


def is_strict_ancestor(ancestor_path, path):
    return is_ancestor_or_self(ancestor_path, path) and ancestor_path != path


def can_read(actor_path, unit_path):
    """Every account reads its own unit and everything beneath it."""
    return is_ancestor_or_self(actor_path, unit_path)


def can_create_under(actor_path, parent_path):
    """Department creates provinces, province creates LAOs, LAO creates its institutions."""
    return is_ancestor_or_self(actor_path, parent_path)


def can_verify(actor_role, actor_path, unit_path):
    """A pending institution is verified by a province or department user above it."""
    return actor_role in ("province", "department") and is_strict_ancestor(actor_path, unit_path)


def can_close(actor_path, unit_path):
    """A unit is closed by a user of a unit above it, never by itself."""
    return is_strict_ancestor(actor_path, unit_path)


def can_manage_account(actor_path, account_unit_path):
    """An account is reset or disabled by a user of a unit above the account's
    unit, never by a colleague of the same unit (who may read it)."""
    return is_strict_ancestor(actor_path, account_unit_path)


def can_revoke(actor_path, unit_path):
    """A confirmation is revoked only from above (the unit itself never can)."""
    return is_strict_ancestor(actor_path, unit_path)
