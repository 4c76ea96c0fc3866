"""Forms as code: every shipped form survives YAML → database → YAML unchanged, `earshot scorecards export
--all --dir` writes one file per form, loading an edited file makes a draft (not a published version), and
invalid files are rejected with the field path and line."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.scorecards import service
from app.scorecards.schema import form_to_yaml, parse_form_yaml

SCORECARDS = Path(__file__).resolve().parents[2] / "scorecards"
SHIPPED = sorted(SCORECARDS.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_export_of_import_is_stable_for_every_shipped_form(session, path):
    text = path.read_text(encoding="utf-8")
    _, version, _ = service.import_yaml(session=session, text=text, actor=None)
    session.expire_all()  # read the definition back from the database (JSON), not from memory
    exported = service.export_yaml(version=service.get_version(session=session, version_id=version.id))
    assert parse_form_yaml(exported) == parse_form_yaml(text)  # the same form (comments aside)
    _, again, outcome = service.import_yaml(session=session, text=exported, actor=None)
    assert outcome == "unchanged" and again.id == version.id
    assert service.export_yaml(version=again) == exported == form_to_yaml(parse_form_yaml(exported))


@pytest.fixture
def backend() -> str:  # the CLI opens its own database from EARSHOT_* settings: a SQLite file here
    return "sqlite"


def test_cli_export_all_then_load_an_edit_as_a_draft(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("EARSHOT_DATABASE_URL", url)
    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    loaded = runner.invoke(cli, ["scorecards", "load", str(SCORECARDS)])
    assert loaded.exit_code == 0 and "3 created" in loaded.output, loaded.output
    folder = tmp_path / "forms"
    exported = runner.invoke(cli, ["scorecards", "export", "--all", "--dir", str(folder)])
    assert exported.exit_code == 0 and "wrote 3 form(s)" in exported.output, exported.output
    assert sorted(p.name for p in folder.iterdir()) == [p.name for p in SHIPPED]
    for path in SHIPPED:
        assert parse_form_yaml((folder / path.name).read_text()) == parse_form_yaml(path.read_text())
    assert runner.invoke(cli, ["scorecards", "load", str(folder)]).output.startswith(
        "scorecards: 0 created, 0 new version(s), 3 unchanged")

    edited = folder / "chat_email.yaml"
    edited.write_text(edited.read_text().replace("Chat and e-mail quality", "Written quality"))
    draft = runner.invoke(cli, ["scorecards", "load", str(folder)])
    assert draft.exit_code == 0 and "1 new version(s)" in draft.output
    assert "chat_email: draft version 2 — test it and publish it at /scorecards/" in draft.output
    engine = make_engine(url)
    with session_scope(session_factory(engine)) as session:
        card = service.get_by_key(session=session, key="chat_email")
        assert service.published_version(session=session, scorecard_id=card.id).number == 1
    # no evaluations yet, so nothing can move: --publish publishes it
    published = runner.invoke(cli, ["scorecards", "load", str(folder), "--publish"])
    assert published.exit_code == 0 and "chat_email: published version 2" in published.output, published.output
    with session_scope(session_factory(engine)) as session:
        assert service.published_version(session=session, scorecard_id=card.id).number == 2
    engine.dispose()

    edited.write_text(edited.read_text().replace("points: 2", "points: -2", 1))
    bad = runner.invoke(cli, ["scorecards", "load", str(folder)])
    assert bad.exit_code == 1
    assert "chat_email.yaml" in bad.output and ".points: must be >= 0 (line" in bad.output
    check = runner.invoke(cli, ["scorecards", "check", str(edited)])
    assert check.exit_code == 1 and f"{edited}:" in check.output and "points: must be >= 0" in check.output
    usage = runner.invoke(cli, ["scorecards", "export", "--all"])
    assert usage.exit_code == 2
