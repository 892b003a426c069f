"""Each service's migrations produce exactly the tables its models describe."""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.common.settings import SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_models_match_migrated_schema(engines, service):
    models = importlib.import_module(f"services.{service}.models")
    with engines[service].connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, models.metadata)
    assert diff == [], diff
