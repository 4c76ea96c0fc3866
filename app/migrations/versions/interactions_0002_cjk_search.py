"""interactions: Chinese search (index text beside the body)

`search_document.terms` holds the text the full-text index sees when it differs from the body: Chinese
folded to Simplified, each character and each adjacent pair a token (app.core.language.index_text). Both indexes now read
`coalesce(terms, body)`: on SQLite the FTS5 triggers are recreated, on PostgreSQL the generated `tsv`
column (and its GIN index) is rebuilt from it. Existing documents with Chinese text are re-indexed here.

Revision ID: interactions_0002_cjk_search
Revises: interactions_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.language import index_text

revision: str = "interactions_0002_cjk_search"
down_revision: str | Sequence[str] | None = "interactions_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2_000


# the FTS5 triggers indexing coalesce(terms, body), and (downgrade) the body as in interactions_0001
TRIGGERS_TERMS = [
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_au",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.sort_key, coalesce(new.terms, new.body)); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.sort_key, coalesce(old.terms, old.body)); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.sort_key, coalesce(old.terms, old.body)); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.sort_key, coalesce(new.terms, new.body)); END",
]
TRIGGERS_BODY = [
    "DROP TRIGGER IF EXISTS search_document_ai",
    "DROP TRIGGER IF EXISTS search_document_ad",
    "DROP TRIGGER IF EXISTS search_document_au",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.sort_key, new.body); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.sort_key, old.body); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.sort_key, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.sort_key, new.body); END",
]


def _fill_terms() -> None:
    """Set `terms` of every document whose index text differs from its body (the update triggers re-index
    it on SQLite; PostgreSQL's generated column follows). Batched by key so memory stays flat."""
    bind = op.get_bind()
    last = -1
    while True:
        rows = bind.execute(sa.text("SELECT interaction_id, body FROM search_document WHERE interaction_id > :last "
                                    "ORDER BY interaction_id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        changed = [{"id": int(i), "terms": terms} for i, body in rows if (terms := index_text(str(body))) != body]
        if changed:
            bind.execute(sa.text("UPDATE search_document SET terms = :terms WHERE interaction_id = :id"), changed)
        last = int(rows[-1][0])


def upgrade() -> None:
    op.add_column("search_document", sa.Column("terms", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        for statement in TRIGGERS_TERMS:
            op.execute(statement)
        _fill_terms()
    else:
        # drop the generated column first, so filling `terms` does not recompute the old tsvector per row
        op.execute("DROP INDEX IF EXISTS ix_search_document_tsv")
        op.execute("ALTER TABLE search_document DROP COLUMN tsv")
        _fill_terms()
        op.execute("ALTER TABLE search_document ADD COLUMN tsv tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('english', coalesce(terms, body))) STORED")
        op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # put the body back into the index for documents that were indexed by their terms
        op.execute("UPDATE search_document SET terms = NULL WHERE terms IS NOT NULL")  # triggers re-index the body
        for statement in TRIGGERS_BODY:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_document_tsv")
        op.execute("ALTER TABLE search_document DROP COLUMN tsv")
        op.execute("ALTER TABLE search_document ADD COLUMN tsv tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('english', body)) STORED")
        op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")
    op.execute("ALTER TABLE search_document DROP COLUMN terms")  # not a batch copy: that would drop the triggers
