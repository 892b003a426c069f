"""Loading request data with marshmallow, failing with the stable ``validation_error``."""
import marshmallow as ma

from services.common.errors import validation_error


def load(schema, data, partial=False):
    if not isinstance(data, dict):
        raise validation_error({"_schema": ["expected a JSON object"]})
    try:
        return schema.load(data, partial=partial)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise validation_error(messages)


def page(limit, offset):
    """Clamp list paging to the contract: limit default 50, max 1000."""
    errors = {}
    try:
        limit = 50 if limit in (None, "") else int(limit)
        if not 1 <= limit <= 1000:
            errors["limit"] = ["must be between 1 and 1000"]
    except (TypeError, ValueError):
        errors["limit"] = ["must be an integer"]
    try:
        offset = 0 if offset in (None, "") else int(offset)
        if offset < 0:
            errors["offset"] = ["must not be negative"]
    except (TypeError, ValueError):
        errors["offset"] = ["must be an integer"]
    if errors:
        raise validation_error(errors)
    return limit, offset
