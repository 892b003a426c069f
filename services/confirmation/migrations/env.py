from services.common.alembic_env import run
from services.confirmation.models import metadata

run(metadata)
