"""`earshot connect ...` end to end on a migrated SQLite file: import twice, then the exports."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.connectors.cli import commands
from app.core.migrate import upgrade
from app.watch.cli import commands as watch_commands
from tests.integration.connectors_support import asterisk_fixture, tone


def test_connect_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("EARSHOT_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path / "data"))
    upgrade(f"sqlite:///{db}")
    cdr, recordings = asterisk_fixture(tmp_path)
    runner = CliRunner()
    first = runner.invoke(commands, ["asterisk", str(cdr), "--recordings", str(recordings)])
    assert first.exit_code == 0, first.output
    assert "created 2, updated 0, unchanged 0, rejected 0" in first.output
    second = runner.invoke(commands, ["asterisk", str(cdr), "--recordings", str(recordings)])
    assert "created 0, updated 0, unchanged 2, rejected 0" in second.output
    tickets = tmp_path / "tickets.json"
    tickets.write_text(json.dumps({"tickets": [{"id": 1}]}))
    bad = runner.invoke(commands, ["zendesk", str(tickets)])
    assert bad.exit_code == 1 and "line 1: started_at" in bad.output
    drop = tmp_path / "drop"
    tone(drop / "a.wav")
    (drop / "a.json").write_text(json.dumps({"external_id": "w1", "started_at": "2026-11-20T09:00:00+00:00"}))
    (drop / "a.wav.done").touch()
    watched = runner.invoke(watch_commands, [str(drop), "--once"])
    assert watched.exit_code == 0 and "ingested a.wav" in watched.output, watched.output
    exported = runner.invoke(commands, ["export", str(tmp_path / "exports")])
    assert exported.exit_code == 0 and exported.output.count("wrote ") == 3
