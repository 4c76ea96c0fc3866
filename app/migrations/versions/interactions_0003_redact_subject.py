"""interactions: subjects stored redacted beside the original, and the search index rebuilt from them

E-mail and ticket subjects carry personal data as message text does ("Refund to card 4929 ... for Jane Doe").
This revision adds `interaction.redacted_subject` and `message.redacted_subject`, fills them with the shared
detector (app/interactions/content.py, the same redaction as message text, names included), and rebuilds every
search document through the content gate, so the index holds the redacted subject only. It also does the work
of interactions_0002_redact_reindex (redact old messages, rebuild the index), which became a no-op because it
read through today's models before these columns existed. Downgrade drops the two columns (the originals are
untouched; older code indexed subjects redacted by pattern, which a rebuild under it would restore).

Revision ID: interactions_0003_redact_subject
Revises: interactions_0002_redact_reindex
Create Date: 2026-12-05 06:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

revision: str = 'interactions_0003_redact_subject'
down_revision: str | Sequence[str] | None = 'interactions_0002_redact_reindex'
branch_labels: str | Sequence[str] | None = None
# the data step reads through the application's models: it runs after every revision that existed when it was
# written (interactions_0002_redact_reindex depends on all of them)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('interaction', sa.Column('redacted_subject', sa.Text(), nullable=True))
    op.add_column('message', sa.Column('redacted_subject', sa.Text(), nullable=True))
    from app.interactions.service import redact_and_reindex_all

    # the session joins the migration's own transaction (Alembic commits it)
    with Session(bind=op.get_bind()) as session:
        redact_and_reindex_all(session=session)
        session.flush()


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ and PostgreSQL): no table copy of `interaction`
    op.drop_column('message', 'redacted_subject')
    op.drop_column('interaction', 'redacted_subject')
