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
