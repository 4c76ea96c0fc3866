"""social care rules of the center's practice: rolling non-genuine window with a grace period, site-visit
resolution target, influencer watch list, the channels /care publishes, listening rules (brand and competitor keywords); thread state for the problem clock, resolution clock and watch flag

Revision ID: social_0002_care_rules
Revises: social_0001
Create Date: 2026-12-05 03:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'social_0002_care_rules'
down_revision: str | Sequence[str] | None = 'social_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('social_channel_config') as batch:
        batch.add_column(sa.Column('non_genuine_window_hours', sa.Float(), nullable=False, server_default='72'))
        batch.add_column(sa.Column('non_genuine_grace_hours', sa.Float(), nullable=False, server_default='4'))
        batch.add_column(sa.Column('site_visit_resolution_seconds', sa.Float(), nullable=False,
                                   server_default='172800'))
        batch.add_column(sa.Column('influencer_followers', sa.Integer(), nullable=False, server_default='100000'))
    # the old rule counted calendar days: carry a configured number of days over as a rolling window
    op.execute("UPDATE social_channel_config SET non_genuine_window_hours = non_genuine_days * 24")
    with op.batch_alter_table('social_thread_state') as batch:
        batch.add_column(sa.Column('problem_open', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column('site_visit', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('resolution_due_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('resolution_status', sa.String(length=20), nullable=False,
                                   server_default='not_needed'))
        batch.add_column(sa.Column('watched', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('mentions', sa.JSON(), nullable=False, server_default='[]'))
    op.create_table(
        'social_listening_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('terms', sa.JSON(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'care_channel',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('listed_publicly', sa.Boolean(), nullable=False),
        sa.Column('response_seconds', sa.Float(), nullable=True),
        sa.Column('hours', sa.String(length=300), nullable=False),
        sa.Column('issues', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('care_channel')
    op.drop_table('social_listening_rule')
    with op.batch_alter_table('social_thread_state') as batch:
        for name in ('mentions', 'watched', 'resolution_status', 'resolution_due_at', 'site_visit', 'problem_open'):
            batch.drop_column(name)
    with op.batch_alter_table('social_channel_config') as batch:
        for name in ('influencer_followers', 'site_visit_resolution_seconds', 'non_genuine_grace_hours',
                     'non_genuine_window_hours'):
            batch.drop_column(name)
