from services.common.alembic_env import run
from services.reporting.models import metadata

run(metadata)
