"""auto-QA suggestions offered in the evaluation form, with the evaluator's final answer

Revision ID: evaluations_0002_suggestions
Revises: evaluations_0001
Create Date: 2026-12-05 03:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'evaluations_0002_suggestions'
down_revision: str | Sequence[str] | None = 'evaluations_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a new table: existing evaluations simply had no suggestions
    op.create_table(
        'evaluation_suggestion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('confidence', sa.Float(), nullable=False),
        sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('final_value', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('evaluation_id', 'question_id', name='uq_evaluation_suggestion_question'),
    )
    with op.batch_alter_table('evaluation_suggestion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_suggestion_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_suggestion_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_suggestion_outcome'), ['outcome'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evaluation_suggestion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_suggestion_outcome'))
        batch_op.drop_index(batch_op.f('ix_evaluation_suggestion_question_id'))
        batch_op.drop_index(batch_op.f('ix_evaluation_suggestion_evaluation_id'))
    op.drop_table('evaluation_suggestion')
