"""interactions: an index on the lower-cased source reference, so a search for "CALL-013" or a post id finds the
interaction at once (search's reference lookup) instead of scanning every interaction.

Revision ID: interactions_0004_reference
Revises: interactions_0003_redact_subject
Create Date: 2026-12-05 10:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'interactions_0004_reference'
down_revision: str | Sequence[str] | None = 'interactions_0003_redact_subject'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_interaction_reference', 'interaction', [sa.text('lower(external_id)')])


def downgrade() -> None:
    op.drop_index('ix_interaction_reference', table_name='interaction')
