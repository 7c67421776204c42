import uuid

import pytest

from services.eventkit.db import make_engine
from support import KitFixture


@pytest.fixture
def kit(database_url):
    """The kit's test service on a fresh database, with a topic of its own."""
    fixture = KitFixture(topic=f"t{uuid.uuid4().hex[:10]}.tandem.kit.v1")
    engine = make_engine(database_url)
    fixture.metadata.create_all(engine)
    fixture.engine = engine
    yield fixture
    engine.dispose()


@pytest.fixture
def enrollment_app(database_url):
    """The enrollment API on a fresh, migrated database."""
    from services.enrollment.app import create_app
    from services.enrollment.service import SERVICE
    from services.eventkit.migrations import upgrade

    upgrade(SERVICE.migrations, database_url)
    app = create_app(database_url)
    yield app
    app.extensions["tandem"].engine.dispose()


@pytest.fixture
def client(enrollment_app):
    return enrollment_app.test_client()


@pytest.fixture
def admin():
    from services.eventkit.auth import ADMIN, Grant
    from support import auth_headers

    return auth_headers(Grant(ADMIN), user="admin-1")


@pytest.fixture
def stored_events(enrollment_app):
    """How many events the enrollment store holds now (to prove a refusal wrote nothing)."""
    import sqlalchemy as sa

    rt = enrollment_app.extensions["tandem"]

    def count() -> int:
        with rt.reading() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(rt.service.tables.events)
            ).scalar_one()

    return count
