"""The body of every service's Alembic ``env.py``: online migrations only,
serialised by a PostgreSQL advisory lock so that replicas starting together
migrate once. A migration waits at most ``LEC_MIGRATION_LOCK_TIMEOUT`` seconds
for a table lock that live traffic holds: it fails (and the starting pod
retries) rather than queue every request behind its ALTER."""
from alembic import context
from sqlalchemy import text

from services.common import settings
from services.common.db import make_engine

MIGRATION_LOCK = 74_930_001


def run(target_metadata):
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.commit()
        try:
            timeout_ms = int(settings.current().migration_lock_timeout * 1000)
            connection.execute(text(f"SET lock_timeout = {timeout_ms}"))
            context.configure(connection=connection, target_metadata=target_metadata,
                              compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()
