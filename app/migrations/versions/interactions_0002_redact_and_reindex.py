"""redact stored messages and rebuild the search index from redacted text

Before this revision chats, e-mails and social posts were redacted only by the hourly analytics sweep, and the
search index was built before redaction and never rebuilt, so card numbers could be found and shown in search
snippets. This data step redacts every message that has no redaction yet and rebuilds every search document
through the content gate (app/interactions/content.py). No schema change; downgrade keeps the redactions (the
originals are untouched, so nothing is lost).

The step itself now runs in interactions_0003_redact_subject: it reads through the application's models, which
map the `redacted_subject` columns that revision adds, so running it here would fail on a database being built
from empty. Databases already past this revision ran it then; the next revision runs it again (idempotent).

Revision ID: interactions_0002_redact_reindex
Revises: interactions_0002_cjk_search
Create Date: 2026-12-05 04:05:00
"""
from collections.abc import Sequence

revision: str = 'interactions_0002_redact_reindex'
down_revision: str | Sequence[str] | None = 'interactions_0002_cjk_search'
branch_labels: str | Sequence[str] | None = None
# runs after every revision that existed when it was written: it reads through the application's models, so
# every column they map must exist (search terms, transcript language, social and survey columns, ...)
depends_on: str | Sequence[str] | None = ('auth_0002_throttle_scopes', 'coaching_0001', 'connectors_0001',
                                          'evaluations_0002_suggestions', 'nlp_0001', 'reviews_0001',
                                          'social_0002_care_rules', 'speech_0002', 'surveys_0002_merge_link')


def upgrade() -> None:
    pass  # done by interactions_0003_redact_subject (see above)


def downgrade() -> None:
    pass  # the redactions and the rebuilt index are correct under the older code too
