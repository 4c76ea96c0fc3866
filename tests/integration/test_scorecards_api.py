"""Scorecards through the API and the loader: idempotent YAML load, invalid forms → 422 with field paths,
versioning (draft/published/retired), YAML import/export, score preview."""

from pathlib import Path

from sqlmodel import select

from app.scorecards import service
from app.scorecards.models import ScorecardVersion
from tests.conftest import sign_in
from tests.integration.evaluations_support import SMALL_FORM

SCORECARDS = Path(__file__).resolve().parents[2] / "scorecards"


def test_yaml_load_is_idempotent(session, tmp_path):
    first = service.load_directory(session=session, directory=SCORECARDS)
    assert sorted(first.created) == ["chat_email", "social_reply", "voice_call"]
    versions = len(session.exec(select(ScorecardVersion)).all())
    second = service.load_directory(session=session, directory=SCORECARDS)
    assert sorted(second.unchanged) == ["chat_email", "social_reply", "voice_call"]
    assert len(session.exec(select(ScorecardVersion)).all()) == versions
    changed = tmp_path / "voice_call.yaml"
    changed.write_text((SCORECARDS / "voice_call.yaml").read_text().replace("Voice call quality", "Voice calls"))
    third = service.load_directory(session=session, directory=tmp_path)
    assert third.new_versions == ["voice_call"]
    scorecard = service.get_by_key(session=session, key="voice_call")
    # an edited file is a draft to test and publish, never published silently
    assert third.drafts == [{"key": "voice_call", "scorecard_id": scorecard.id, "number": 2}]
    numbers = [(v.number, v.status) for v in service.versions(session=session, scorecard_id=scorecard.id)]
    assert numbers == [(1, "published"), (2, "draft")]
    service.load_directory(session=session, directory=tmp_path, publish=True)
    numbers = [(v.number, v.status) for v in service.versions(session=session, scorecard_id=scorecard.id)]
    assert numbers == [(1, "retired"), (2, "published")]


def test_load_reports_bad_file_with_line(session, tmp_path):
    (tmp_path / "bad.yaml").write_text("key: bad\nname: Bad\nchannels: [chat]\nsections:\n  - id: s\n    title: S\n"
                                       "    questions:\n      - id: q\n        text: Q\n        type: yes_no\n"
                                       "        points: -2\n")
    try:
        service.load_directory(session=session, directory=tmp_path)
    except Exception as exc:
        assert "bad.yaml" in exc.message
        assert exc.details[0] == {"loc": "sections[0].questions[0].points", "msg": "must be >= 0", "line": 11}
    else:
        raise AssertionError("a bad form was loaded")


def test_invalid_form_via_api_is_422_with_field_path(client, make_user):
    make_user("admin", username="root")
    sign_in(client, "root")
    bad = {**SMALL_FORM, "sections": [{"id": "s", "title": "S", "questions": [
        {"id": "a", "text": "A", "type": "yes_no"},
        {"id": "c", "text": "C", "type": "choice", "options": [{"value": "x", "points": 1}]},
        {"id": "a", "text": "again", "type": "yes_no"}]}]}
    response = client.post("/api/scorecards", json=bad)
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert {"loc": "sections[0].questions[1].options", "msg": "at least two options required", "line": None} in details
    assert any(d["loc"] == "sections[0].questions[2].id" and "duplicate" in d["msg"] for d in details)
    assert "sections[0].questions" in response.json()["error"]["message"]
    validate = client.post("/api/scorecards/validate", json=bad)
    assert validate.status_code == 422


def test_create_publish_edit_and_retire(client, make_user):
    make_user("evaluator", username="eva")
    sign_in(client, "eva")
    created = client.post("/api/scorecards", json=SMALL_FORM)
    assert created.status_code == 201 and created.json()["outcome"] == "created"
    card_id = created.json()["id"]
    assert created.json()["versions"][0]["status"] == "draft"
    same = client.post("/api/scorecards", json=SMALL_FORM).json()
    assert same["outcome"] == "unchanged"
    edited = client.put(f"/api/scorecards/{card_id}", json={**SMALL_FORM, "description": "edited"}).json()
    assert edited["outcome"] == "updated_draft" and len(edited["versions"]) == 1  # unused draft: in place
    published = client.post(f"/api/scorecards/{card_id}/versions/1/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    after = client.put(f"/api/scorecards/{card_id}", json={**SMALL_FORM, "description": "v2"}).json()
    assert after["outcome"] == "new_version" and after["published_version"] == 1 and after["latest_version"] == 2
    wrong_key = client.put(f"/api/scorecards/{card_id}", json={**SMALL_FORM, "key": "other"})
    assert wrong_key.status_code == 422
    yaml_text = client.get(f"/api/scorecards/{card_id}/versions/2/yaml").text
    assert "description: v2" in yaml_text
    retired = client.post(f"/api/scorecards/{card_id}/retire").json()
    assert retired["retired"] and retired["published_version"] is None
    assert all(c["id"] != card_id for c in client.get("/api/scorecards").json())


def test_yaml_import_error_has_line(client, make_user):
    make_user("admin", username="root")
    sign_in(client, "root")
    text = (SCORECARDS / "chat_email.yaml").read_text().replace("max: 5", "max: 1", 1)
    response = client.post("/api/scorecards/import", json={"yaml": text})
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert detail["loc"] == "sections[0].questions[0].max" and detail["line"] == 16
    ok = client.post("/api/scorecards/import", json={"yaml": (SCORECARDS / "chat_email.yaml").read_text()})
    assert ok.status_code == 201 and ok.json()["published_version"] == 1


def test_score_preview_for_a_version(client, make_user, session):
    service.load_directory(session=session, directory=SCORECARDS)
    card = service.get_by_key(session=session, key="social_reply")
    make_user("agent", username="ada")
    sign_in(client, "ada")
    answers = [{"question_id": "first_response_time", "value": "within_1h"},
               {"question_id": "on_brand_tone", "value": 5}, {"question_id": "no_blame", "value": True},
               {"question_id": "personal_data_involved", "value": True},
               {"question_id": "moved_to_private", "value": False},
               {"question_id": "resolved", "value": True}, {"question_id": "reported_back_publicly", "na": True}]
    body = client.post(f"/api/scorecards/{card.id}/versions/1/score", json=answers).json()
    assert body["score"] == 0.0 and body["critical_failures"] == ["moved_to_private"]
    answers[3]["value"] = False
    body = client.post(f"/api/scorecards/{card.id}/versions/1/score", json=answers).json()
    assert body["score"] == 100.0


def test_cli_load(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.scorecards.cli import commands

    db = tmp_path / "cli.db"
    monkeypatch.setenv("EARSHOT_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path))
    from app.core.migrate import upgrade

    upgrade(f"sqlite:///{db}")
    runner = CliRunner()
    first = runner.invoke(commands, ["load"])
    assert first.exit_code == 0, first.output
    assert "3 created" in first.output
    second = runner.invoke(commands, ["load"])
    assert "3 unchanged" in second.output
    check = runner.invoke(commands, ["check", str(SCORECARDS / "voice_call.yaml")])
    assert check.exit_code == 0 and "14 questions" in check.output
    exported = runner.invoke(commands, ["export", "social_reply", "--out", str(tmp_path / "out.yaml")])
    assert exported.exit_code == 0, exported.output
    from app.scorecards.schema import parse_form_yaml

    assert parse_form_yaml((tmp_path / "out.yaml").read_text()) == parse_form_yaml(
        (SCORECARDS / "social_reply.yaml").read_text())
    assert runner.invoke(commands, ["export", "nope"]).exit_code == 1
