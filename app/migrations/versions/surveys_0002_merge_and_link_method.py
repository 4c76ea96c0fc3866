"""surveys: which empty cells clear a field, and how each response was linked

Revision ID: surveys_0002_merge_link
Revises: surveys_0001
Create Date: 2026-12-05 03:40:00

`survey_source.clear_when_empty` lists the fields an explicitly empty cell clears (every other empty cell or
absent column leaves the stored value alone); `survey_response.link_method` records how a linked response
found its interaction. Existing links get their method from the link rows they already have (a window link
made before this revision did not say whether the phone or the e-mail found the customer: e-mail is tried
first, so it is taken when the response has one).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'surveys_0002_merge_link'
down_revision: str | Sequence[str] | None = 'surveys_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('survey_source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clear_when_empty', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_method', sa.String(length=20), nullable=True))
    op.execute("""
        UPDATE survey_response SET link_method = CASE
          WHEN link_status = 'manual' THEN 'manual'
          WHEN EXISTS (SELECT 1 FROM survey_response_interaction l
                       WHERE l.response_id = survey_response.id AND l.how = 'named') THEN 'named_id'
          WHEN customer_email IS NOT NULL THEN 'email_window'
          ELSE 'phone_window' END
        WHERE link_status IN ('linked', 'manual')
    """)


def downgrade() -> None:
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_column('link_method')
    with op.batch_alter_table('survey_source', schema=None) as batch_op:
        batch_op.drop_column('clear_when_empty')
