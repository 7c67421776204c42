import importlib

import pytest
import sqlalchemy as sa

from services.eventkit import config
from services.eventkit.db import make_engine
from services.eventkit.migrations import upgrade


@pytest.mark.parametrize("name", config.SERVICES)
def test_migrations_build_exactly_the_tables_the_code_uses(name, database_url):
    service = importlib.import_module(f"services.{name}.service").SERVICE
    upgrade(service.migrations, database_url)
    upgrade(service.migrations, database_url)  # a second run is a no-op
    engine = make_engine(database_url)
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        assert tables == set(service.metadata.tables)
        for table in service.metadata.sorted_tables:
            migrated = {c["name"] for c in inspector.get_columns(table.name)}
            assert migrated == {c.name for c in table.columns}, table.name
    finally:
        engine.dispose()


def test_events_stored_before_the_seal_are_numbered_and_sealed_by_the_migration(database_url):
    from services.enrollment.service import SERVICE
    from services.eventkit import operations
    from services.eventkit.envelope import GENESIS_HASH, Envelope, new_id, utcnow
    from services.eventkit.service import Runtime

    upgrade(SERVICE.migrations, database_url, "0003")
    engine = make_engine(database_url)
    rows, prev = [], GENESIS_HASH
    for version in (1, 2):
        event = Envelope(
            event_id=new_id(), event_type="InstitutionAdded", schema_version=1,
            stream_id="institution-x", stream_version=version, institution_id="x",
            actor={"id": "admin", "role": "consortium_admin"}, occurred_at=utcnow(),
            correlation_id=new_id(), causation_id=None,
            payload={"institution_id": "x", "name": "X", "short_code": "X", "time_zone": "UTC"},
        ).sealed(prev)  # fmt: skip
        prev = event.hash
        rows.append(event.to_dict())
    with engine.begin() as conn:
        conn.execute(SERVICE.tables.events.insert(), rows)
    engine.dispose()

    upgrade(SERVICE.migrations, database_url)
    rt = Runtime(SERVICE, database_url)
    try:
        report = operations.verify(rt, checkpoints=[])
        assert report.ok, report.first_break
        assert report.sealed_through == 2
    finally:
        rt.engine.dispose()
