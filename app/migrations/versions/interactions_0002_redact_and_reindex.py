"""redact stored messages and rebuild the search index from redacted text

Before this revision chats, e-mails and social posts were redacted only by the hourly analytics sweep, and the
search index was built before redaction and never rebuilt, so card numbers could be found and shown in search
snippets. This data step redacts every message that has no redaction yet and rebuilds every search document
through the content gate (app/interactions/content.py). No schema change; downgrade keeps the redactions (the
originals are untouched, so nothing is lost).

Revision ID: interactions_0002_redact_reindex
Revises: interactions_0002_cjk_search
Create Date: 2026-12-05 04:05:00
"""
from collections.abc import Sequence

from alembic import op
from sqlmodel import Session

revision: str = 'interactions_0002_redact_reindex'
down_revision: str | Sequence[str] | None = 'interactions_0002_cjk_search'
branch_labels: str | Sequence[str] | None = None
# runs after every revision that existed when it was written: it reads through the application's models, so
# every column they map must exist (search terms, transcript language, social and survey columns, ...)
depends_on: str | Sequence[str] | None = ('auth_0002_throttle_scopes', 'coaching_0001', 'connectors_0001',
                                          'evaluations_0002_suggestions', 'nlp_0001', 'reviews_0001',
                                          'social_0002_care_rules', 'speech_0002', 'surveys_0002_merge_link')


def upgrade() -> None:
    from app.interactions.service import redact_and_reindex_all

    # the session joins the migration's own transaction (Alembic commits it)
    with Session(bind=op.get_bind()) as session:
        redact_and_reindex_all(session=session)
        session.flush()


def downgrade() -> None:
    pass  # the redactions and the rebuilt index are correct under the older code too
