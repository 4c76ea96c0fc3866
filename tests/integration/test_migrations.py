"""The migrations build the whole schema from empty and take it down again, on both databases."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from app.core.features import import_all_models
from app.core.migrate import downgrade, upgrade
from tests.conftest import create_postgres_database, drop_postgres_database

# Full-text search tables made by dialect-specific DDL (SQLite FTS5 and its shadow tables), not models.
UNMODELLED_PREFIXES = ("search_fts",)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {n for n in names if not n.startswith(UNMODELLED_PREFIXES)}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrade_from_empty_then_downgrade_to_empty(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        created = create_postgres_database("mig")
        if created is None:
            pytest.skip("PostgreSQL not reachable")
        url = created
    try:
        import_all_models()
        upgrade(url)
        assert _tables(url) == set(SQLModel.metadata.tables), "migrations and models disagree"
        downgrade(url, "base")
        assert _tables(url) == set()
        upgrade(url)  # and up again: downgrade left nothing behind that blocks a rebuild
        assert _tables(url) == set(SQLModel.metadata.tables)
    finally:
        if backend == "postgresql":
            drop_postgres_database(url)
