"""Alembic environment: the URL comes from Earshot's settings unless the caller sets one."""

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from app.core.db import make_engine
from app.core.features import import_all_models
from app.core.settings import Settings

import_all_models()
target_metadata = SQLModel.metadata
config = context.config

# Dialect-specific objects made by raw DDL in migrations (full-text search: SQLite FTS5 tables and their
# shadow tables, PostgreSQL tsvector column/index). They are not in the models; autogenerate must not drop them.
UNMODELLED_PREFIXES = ("search_fts",)
UNMODELLED_NAMES = {"tsv", "ix_search_document_tsv"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    unmodelled = name is not None and (name.startswith(UNMODELLED_PREFIXES) or name in UNMODELLED_NAMES)
    return not (reflected and compare_to is None and unmodelled)


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
