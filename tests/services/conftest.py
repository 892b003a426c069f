"""In-process tests of one service's code against its real test database."""
import pytest
from sqlalchemy.orm import sessionmaker

from services.common import settings
from services.common.context import Actor
from services.common.db import DbHandle, make_engine

SYSTEM = Actor.system("tests")


class LocalProvider:
    """Just enough of the Database dependency for handlers called in-process."""

    def __init__(self, engine):
        self.engine = engine
        self.Session = sessionmaker(engine, expire_on_commit=False)
        self.wakes = 0

    def wake_relay(self, news=()):
        self.wakes += 1


@pytest.fixture(scope="session")
def engines(lec_env):
    made = {s: make_engine(settings.database_url(s), pool_size=5) for s in settings.SERVICES}
    yield made
    for engine in made.values():
        engine.dispose()


@pytest.fixture
def db_for(engines):
    """A service's ``self.db`` in-process, acting as ``actor`` (by default the
    system, named, as a service's own timers and handlers do)."""
    def make(service, actor=SYSTEM):
        return DbHandle(LocalProvider(engines[service]), actor=actor)
    return make
