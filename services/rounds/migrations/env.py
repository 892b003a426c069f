from services.common.alembic_env import run
from services.rounds.models import metadata

run(metadata)
