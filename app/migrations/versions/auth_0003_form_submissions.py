"""auth: the tokens of page forms that were sent and acted on

A page's state-changing form carries a token of its rendering; the first sending that changes something
stores it here, and a second sending of the same rendering (a double click, Back and send again) is refused
instead of acting twice. Rows older than the retention sweep's horizon are deleted.

Revision ID: auth_0003_form_submissions
Revises: auth_0002_throttle_scopes
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'auth_0003_form_submissions'
down_revision: str | Sequence[str] | None = 'auth_0002_throttle_scopes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'form_submission',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('token'),
    )
    op.create_index('ix_form_submission_sent_at', 'form_submission', ['sent_at'])


def downgrade() -> None:
    op.drop_index('ix_form_submission_sent_at', table_name='form_submission')
    op.drop_table('form_submission')
