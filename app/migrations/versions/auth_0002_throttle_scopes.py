"""auth: login throttle rows per user and per source address

The throttle table held one row per typed username. It now holds two kinds of rows, told apart by a prefix
that no typed text can forge into the other kind: `user:<name>` and `addr:<ip>`. Existing rows (usernames)
become `user:` rows, so a lock-out in force stays in force.

Revision ID: auth_0002_throttle_scopes
Revises: 0001_foundation
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'auth_0002_throttle_scopes'
down_revision: str | Sequence[str] | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE login_throttle SET username = 'user:' || substr(username, 1, 315)")


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle WHERE username NOT LIKE 'user:%'")
    op.execute("UPDATE login_throttle SET username = substr(username, 6)")
