"""Revision ids fit Alembic's version table: `alembic_version.version_num` is VARCHAR(32), so a longer id
passes on SQLite (no length check) and fails every upgrade on PostgreSQL."""

from alembic.config import Config
from alembic.script import ScriptDirectory


def test_every_revision_id_fits_the_version_table():
    scripts = ScriptDirectory.from_config(Config("alembic.ini"))
    too_long = [rev.revision for rev in scripts.walk_revisions() if len(rev.revision) > 32]
    assert not too_long
    assert len(list(scripts.walk_revisions())) > 10
