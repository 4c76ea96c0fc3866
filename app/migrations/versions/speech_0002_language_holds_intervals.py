"""speech: the intervals behind each call's talk figures and the hold threshold used; transcript language
filled in for transcripts made before the language was recorded

Revision ID: speech_0002
Revises: speech_0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'speech_0002'
down_revision: str | Sequence[str] | None = 'speech_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('call_metrics', schema=None) as batch_op:
        # null for calls measured before: the page falls back to the transcript lines until re-transcribed
        batch_op.add_column(sa.Column('intervals', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('hold_min_seconds', sa.Float(), nullable=True))
    # every transcript before this revision came from the English-only tiny.en model
    op.execute("UPDATE call_transcript SET language = 'en' WHERE language IS NULL")


def downgrade() -> None:
    with op.batch_alter_table('call_metrics', schema=None) as batch_op:
        batch_op.drop_column('hold_min_seconds')
        batch_op.drop_column('intervals')
