from services.common.alembic_env import run
from services.enrollment.models import metadata

run(metadata)
