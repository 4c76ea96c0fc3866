"""`earshot import ...` on a real SQLite file: progress, the report with rejected lines, idempotent re-runs."""

import pytest
from typer.testing import CliRunner

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.cli import cli
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.core.security import make_password_hasher
from tests.conftest import make_settings
from tests.integration.interactions_support import FIXTURES


@pytest.fixture
def backend() -> str:  # the CLI opens its own database from EARSHOT_* settings: a SQLite file here
    return "sqlite"


def test_cli_imports_report_and_are_idempotent(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = make_settings(tmp_path / "data")
    with session_scope(session_factory(engine)) as session:
        for name in ("ada", "ben", "cara", "sam"):
            auth_service.create_user(session=session, hasher=make_password_hasher(settings), actor=None,
                                     data=UserCreate(username=name, password="correct horse battery", roles=["agent"]))
    engine.dispose()
    monkeypatch.setenv("EARSHOT_DATABASE_URL", url)
    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EARSHOT_QUEUE_URL", "immediate")
    runner = CliRunner()
    first = runner.invoke(cli, ["import", "chats", str(FIXTURES / "chats.jsonl"), "--source", "cli"])
    assert first.exit_code == 0, first.output
    assert "created 2, updated 0, unchanged 0, rejected 3" in first.output
    assert "line 8: chat-002 unknown agent 'nobody'" in first.output
    again = runner.invoke(cli, ["import", "chats", str(FIXTURES / "chats.jsonl"), "--source", "cli"])
    assert "created 0, updated 0, unchanged 2, rejected 3" in again.output
    emails = runner.invoke(cli, ["import", "emails", str(FIXTURES / "emails"), "--source", "cli"])
    assert "created 2" in emails.output and "05-broken.eml" in emails.output
    social = runner.invoke(cli, ["import", "social", str(FIXTURES / "social.json"), "--source", "cli"])
    assert "created 2" in social.output
    missing = runner.invoke(cli, ["import", "calls", str(tmp_path), "--source", "cli"])
    assert missing.exit_code == 1 and "manifest.csv not found" in missing.output
