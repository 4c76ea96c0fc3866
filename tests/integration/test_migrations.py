"""The migrations build the whole schema from empty and take it down again, on both databases."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, inspect
from sqlmodel import Session, SQLModel

from app.core.db import make_engine
from app.core.features import import_all_models
from app.core.migrate import downgrade, upgrade
from app.interactions import search
from app.interactions.models import Interaction, Message, SearchDocument
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


SUBJECT = "Refund to card 4111 1111 1111 1111 for Mrs Philippa Quenby, postcode SW1A 2AA"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_subject_migration_redacts_stored_subjects_and_rebuilds_the_index(backend: str, tmp_path: Path) -> None:
    """interactions_0003: subjects stored in clear (and indexed in clear by an older version) are redacted, the
    search index is rebuilt from the redacted subject, and a downgrade drops only the new columns."""
    url = f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite" else create_postgres_database("subjmig")
    if url is None:
        pytest.skip("PostgreSQL not reachable")
    at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    try:
        upgrade(url, "interactions_0002_redact_reindex")
        engine = make_engine(url)
        with engine.begin() as connection:  # the rows an older version left: subjects in clear, in the index too
            connection.execute(insert(Interaction.__table__), [{  # type: ignore[attr-defined]
                "id": 1, "channel": "email", "direction": "inbound", "started_at": at, "source": "old",
                "external_id": "old1", "subject": SUBJECT, "extra": {}, "created_at": at}])
            connection.execute(insert(Message.__table__), [{  # type: ignore[attr-defined]
                "id": 1, "interaction_id": 1, "external_id": "e1", "author_role": "customer", "sent_at": at,
                "text": "see the subject", "redacted_text": "see the subject", "subject": SUBJECT,
                "is_public": True, "attachments": [], "extra": {}}])
            connection.execute(insert(SearchDocument.__table__), [{  # type: ignore[attr-defined]
                "interaction_id": 1, "sort_key": 1, "body": SUBJECT + "\nsee the subject", "updated_at": at}])
        upgrade(url)
        with Session(engine) as session:
            interaction = session.get(Interaction, 1)
            assert interaction is not None and interaction.subject == SUBJECT  # the original is kept
            assert interaction.redacted_subject == "Refund to card [CARD] for Mrs [PERSON], postcode [POSTCODE]"
            message = session.get(Message, 1)
            assert message is not None and message.redacted_subject == interaction.redacted_subject
            document = session.get(SearchDocument, 1)
            assert document is not None and "4111" not in document.body and "[CARD]" in document.body
            for query in ("Quenby", "4111", "SW1A"):
                assert search.search(session=session, principal=None, q=query).total == 0, query
            assert search.search(session=session, principal=None, q="refund").total == 1
        engine.dispose()
        downgrade(url, "interactions_0002_redact_reindex")
        inspector_engine = create_engine(url)
        try:
            for table in ("interaction", "message"):
                columns = {c["name"] for c in inspect(inspector_engine).get_columns(table)}
                assert "subject" in columns and "redacted_subject" not in columns
        finally:
            inspector_engine.dispose()
        upgrade(url)  # and up again
    finally:
        if backend == "postgresql":
            drop_postgres_database(url)
