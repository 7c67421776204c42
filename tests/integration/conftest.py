import uuid

import pytest
from support import KitFixture

from services.eventkit.db import make_engine


@pytest.fixture
def kit(database_url):
    """The kit's test service on a fresh database, with a topic of its own."""
    fixture = KitFixture(topic=f"t{uuid.uuid4().hex[:10]}.tandem.kit.v1")
    engine = make_engine(database_url)
    fixture.metadata.create_all(engine)
    fixture.engine = engine
    yield fixture
    engine.dispose()
