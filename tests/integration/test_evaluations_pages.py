"""The pages, through HTML forms: evaluate an interaction (draft, preview, submit), the agent disputes, an
evaluator resolves; scorecard pages; calibration page; home panels per role."""

import re
from pathlib import Path

from app.scorecards import service as scorecards
from tests.conftest import sign_in
from tests.integration.evaluations_support import load_small_form, make_interaction

SCORECARDS = Path(__file__).resolve().parents[2] / "scorecards"
HTML = {"accept": "text/html"}


def _evaluation_id(location: str) -> int:
    match = re.match(r"/evaluations/(\d+)", location)
    assert match, location
    return int(match.group(1))


def test_evaluate_dispute_resolve_through_pages(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada", team="Billing")
    make_user("coach", username="colin", team="Billing")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, messages=2)
    sign_in(client, "eva")
    chooser = client.get(f"/evaluations/new?interaction_id={interaction.id}")
    assert chooser.status_code == 200 and "Small chat form" in chooser.text
    created = client.post("/evaluations/new", data={"interaction_id": interaction.id, "scorecard_id": scorecard_id},
                          follow_redirects=False)
    assert created.status_code == 303
    evaluation_id = _evaluation_id(created.headers["location"])
    page = client.get(f"/evaluations/{evaluation_id}/edit")
    assert page.status_code == 200 and "message 1" in page.text and 'name="answer__tone"' in page.text
    fields = {"answer__greeted": "yes", "answer__tone": "4", "comment__tone": "Warm", "evidence__tone": "0:30-0:45",
              "answer__resolved": "na", "answer__verified": "no", "answer__note": "Good call", "action": "preview"}
    preview = client.post(f"/evaluations/{evaluation_id}/edit", data=fields)
    assert preview.status_code == 200 and "critical failure: verified" in preview.text
    bad = client.post(f"/evaluations/{evaluation_id}/edit", data={**fields, "evidence__tone": "soon"})
    assert bad.status_code == 422 and "not a time" in bad.text
    submitted = client.post(f"/evaluations/{evaluation_id}/edit", data={**fields, "answer__verified": "yes",
                                                                        "action": "submit"}, follow_redirects=False)
    assert submitted.status_code == 303 and submitted.headers["location"] == f"/evaluations/{evaluation_id}?flash=submitted"
    detail = client.get(submitted.headers["location"])
    assert "Evaluation submitted." in detail.text
    # greeted 1/1, tone 3/4, resolved N/A, verified 1/1 → 5/6
    assert "83.3" in detail.text and "0:30" in detail.text and "Warm" in detail.text
    sign_in(client, "ada")
    mine = client.get(f"/evaluations/{evaluation_id}")
    assert "Acknowledge" in mine.text and "Dispute this evaluation" in mine.text
    disputed = client.post(f"/evaluations/{evaluation_id}/dispute",
                           data={"reason": "I did verify", "dispute__tone": "Tone was great"}, follow_redirects=False)
    assert disputed.status_code == 303
    assert "Your dispute was sent" in client.get(disputed.headers["location"]).text
    sign_in(client, "colin")
    assert "I did verify" in client.get(f"/evaluations/{evaluation_id}").text
    # the evaluator who scored it does not judge the dispute (the form's default): another evaluator does
    sign_in(client, "eva")
    page = client.get(f"/evaluations/{evaluation_id}")
    assert "Resolve the dispute" not in page.text and "Another evaluator or an admin resolves it" in page.text
    refused = client.post(f"/evaluations/{evaluation_id}/resolve", data={"outcome": "upheld", "reason": "Fine"})
    assert refused.status_code == 403 and "second pair of eyes" in refused.text
    make_user("evaluator", username="evan")
    sign_in(client, "evan")
    page = client.get(f"/evaluations/{evaluation_id}")
    assert "Resolve the dispute" in page.text
    resolved = client.post(f"/evaluations/{evaluation_id}/resolve", data={
        "outcome": "adjusted", "reason": "Tone deserved a 5", "answer__tone": "5", "answer__greeted": "yes"},
        follow_redirects=False)
    assert resolved.status_code == 303
    final = client.get(resolved.headers["location"])
    assert "The dispute is resolved" in final.text
    assert "100.0" in final.text and "resolved the dispute" in final.text and "evaluation.resolve" not in final.text and "Tone deserved a 5" in final.text


def test_agent_cannot_open_another_agents_evaluation_page(client, session, make_user):
    make_user("evaluator", username="eva")
    ada = make_user("agent", username="ada")
    make_user("agent", username="ben")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=ada.id)
    sign_in(client, "eva")
    created = client.post("/evaluations/new", data={"interaction_id": interaction.id, "scorecard_id": scorecard_id},
                          follow_redirects=False)
    evaluation_id = _evaluation_id(created.headers["location"])
    client.post(f"/evaluations/{evaluation_id}/edit", data={
        "answer__greeted": "yes", "answer__tone": "5", "answer__resolved": "yes", "answer__verified": "yes",
        "action": "submit"})
    sign_in(client, "ben")
    assert client.get(f"/evaluations/{evaluation_id}", headers=HTML).status_code == 404
    assert client.post(f"/evaluations/{evaluation_id}/acknowledge", headers=HTML).status_code == 404


def test_scorecard_pages_render_and_import_errors_show_path_and_line(client, session, make_user):
    scorecards.load_directory(session=session, directory=SCORECARDS)
    card = scorecards.get_by_key(session=session, key="voice_call")
    make_user("agent", username="ada")
    sign_in(client, "ada")
    listing = client.get("/scorecards")
    assert listing.status_code == 200 and "Voice call quality" in listing.text and "Import a form" not in listing.text
    detail = client.get(f"/scorecards/{card.id}")
    assert "Verified the caller" in detail.text and "critical: fails the form" in detail.text
    assert "key: voice_call" in detail.text
    make_user("admin", username="root")
    sign_in(client, "root")
    bad = client.post("/scorecards/import", data={"yaml_text": "key: x\nname: X\nchannels: [chat]\nsections: []\n"})
    assert bad.status_code == 422 and "at least one section required" in bad.text and "line 4" in bad.text


def test_queue_and_calibration_pages(client, session, make_user):
    make_user("evaluator", username="lead")
    first = make_user("evaluator", username="e1")
    second = make_user("evaluator", username="e2")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, segments=3, channel="call")
    sign_in(client, "lead")
    assert client.get("/evaluations/queue").status_code == 200
    created = client.post("/calibrations", data={"title": "Week 1", "interaction_id": interaction.id,
                                                 "scorecard_id": scorecard_id,
                                                 "evaluator_ids": [first.id, second.id]}, follow_redirects=False)
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert "Scoring is blind" in page.text and "Close and compute agreement" in page.text
    started = client.post(created.headers["location"] + "/start", follow_redirects=False)
    edit = client.get(started.headers["location"])
    assert "segment 2" in edit.text and "gold" in edit.text
    closed = client.post(created.headers["location"] + "/close", follow_redirects=True)
    assert "Krippendorff" in closed.text


def test_a_refused_calibration_session_shows_the_reason_and_keeps_what_was_typed(client, session, make_user):
    make_user("evaluator", username="lead")
    first = make_user("evaluator", username="e1")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, segments=3, channel="call")
    sign_in(client, "lead")
    typed = {"title": "Week <1> & hold times", "interaction_id": str(interaction.id), "scorecard_id": str(scorecard_id)}
    for fields, status, reason in [
        (typed, 422, "at least two evaluators"),  # no evaluator ticked: the field is absent from the form
        ({**typed, "evaluator_ids": [str(first.id)]}, 422, "at least two evaluators"),
        ({**typed, "interaction_id": "999999", "evaluator_ids": [str(first.id)]}, 404, "999999"),
        ({**typed, "interaction_id": "12a", "evaluator_ids": [str(first.id)]}, 422, "give a number"),
    ]:
        page = client.post("/calibrations", data=fields, headers={"accept": "text/html"})
        assert page.status_code == status, page.text
        assert reason in page.text and "New session" in page.text  # the calibration page, not an error page
        assert 'value="Week &lt;1&gt; &amp; hold times"' in page.text  # what was typed, escaped
        ticked = re.findall(r'name="evaluator_ids" value="(\d+)" checked', page.text)
        assert ticked == fields.get("evaluator_ids", [])
    assert client.get("/api/calibrations").json()["total"] == 0


def test_home_panels_per_role(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada", team="Billing")
    make_user("coach", username="colin", team="Billing")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id)
    sign_in(client, "eva")
    draft = client.post("/api/evaluations", json={"interaction_id": interaction.id, "scorecard_id": scorecard_id}).json()
    client.post(f"/api/evaluations/{draft['id']}/submit", json={"answers": [
        {"question_id": "greeted", "value": True}, {"question_id": "tone", "value": 3},
        {"question_id": "resolved", "value": True}, {"question_id": "verified", "value": True}]})
    assert "My evaluation queue" in client.get("/").text
    sign_in(client, "ada")
    home = client.get("/").text
    assert "My recent scores" in home and "81.8" in home and "To acknowledge" in home
    # one evaluation is no basis for an average: the interval rule says so instead of showing 81.8 as a fact
    assert "My average, last 90 days" in home and "81.8 (not enough evaluations to say, n=1)" in home
    sign_in(client, "colin")
    home = client.get("/").text
    assert "My team&#39;s quality" in home and "81.8 (not enough evaluations to say, n=1)" in home


def test_edit_a_form_on_its_page_makes_a_draft_then_publish(client, session, make_user):
    scorecards.load_directory(session=session, directory=SCORECARDS)
    card = scorecards.get_by_key(session=session, key="chat_email")
    make_user("evaluator", username="eva")
    sign_in(client, "eva")
    page = client.get(f"/scorecards/{card.id}")
    assert "Save as new version" in page.text
    text = scorecards.export_yaml(version=scorecards.published_version(session=session, scorecard_id=card.id))
    saved = client.post("/scorecards/import", data={"yaml_text": text.replace("Chat and e-mail quality", "Written quality")},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("version=2")
    draft_page = client.get(saved.headers["location"])
    assert "Written quality" in draft_page.text and "Publish" in draft_page.text
    client.post(f"/scorecards/{card.id}/versions/2/publish")
    assert scorecards.published_version(session=session, scorecard_id=card.id).number == 2


def test_autosave_returns_the_new_revision_and_refuses_stale_ones(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id)
    sign_in(client, "eva")
    created = client.post("/evaluations/new", data={"interaction_id": interaction.id, "scorecard_id": scorecard_id},
                          follow_redirects=False)
    evaluation_id = _evaluation_id(created.headers["location"])
    first = client.post(f"/evaluations/{evaluation_id}/edit", data={
        "action": "autosave", "revision": "1", "answer__greeted": "yes", "evidence__greeted": "0:10"})
    assert first.status_code == 200 and first.json()["revision"] == 2
    stale = client.post(f"/evaluations/{evaluation_id}/edit", data={
        "action": "autosave", "revision": "1", "answer__greeted": "no"})
    assert stale.status_code == 409 and "someone else" in stale.json()["error"]["message"]


def test_admin_creates_and_runs_a_sampling_rule_from_the_page(client, session, make_user):
    from datetime import UTC, datetime, timedelta

    make_user("admin", username="root")
    evaluator = make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    for day in range(3):
        make_interaction(session, agent_id=agent.id, channel="call",
                         started_at=datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(days=day))
    sign_in(client, "root")
    assert "No rules yet" in client.get("/evaluations/sampling").text
    bad = client.post("/evaluations/sampling", data={"name": "x", "per_agent": "0", "evaluator_ids": [evaluator.id]})
    assert bad.status_code == 422 and "per_agent" in bad.text
    created = client.post("/evaluations/sampling", data={"name": "Calls", "channel": "call", "per_agent": "2",
                                                         "evaluator_ids": [evaluator.id]}, follow_redirects=True)
    assert created.status_code == 200 and "Calls" in created.text
    rule_id = re.search(r'/evaluations/sampling/(\d+)/run', created.text).group(1)
    ran = client.post(f"/evaluations/sampling/{rule_id}/run", data={"period_start": "2026-11-02"}, follow_redirects=True)
    assert "2 assignment(s) created" in ran.text


def test_detail_page_shows_evidence_given_as_a_single_time(client, session, make_user):
    """A transcript click gives one time (no end): the stored evidence has no "end" key at all."""
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada", team="Billing")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, messages=2)
    sign_in(client, "eva")
    created = client.post("/evaluations/new", data={"interaction_id": interaction.id, "scorecard_id": scorecard_id},
                          follow_redirects=False)
    evaluation_id = _evaluation_id(created.headers["location"])
    submitted = client.post(f"/evaluations/{evaluation_id}/edit", data={
        "answer__greeted": "yes", "evidence__greeted": "0:08", "answer__tone": "4", "answer__resolved": "na",
        "answer__verified": "yes", "action": "submit"}, follow_redirects=False)
    assert submitted.status_code == 303
    detail = client.get(f"/evaluations/{evaluation_id}")
    assert detail.status_code == 200
    assert 'data-seek="8.0" aria-label="Play the evidence from 0:08">0:08</button>' in detail.text


def test_main_nav_marks_only_the_most_specific_page_as_current(client, make_user):
    make_user("evaluator", username="eva")
    sign_in(client, "eva")
    for path, label in (("/evaluations/queue", "My queue"), ("/evaluations", "Evaluations"), ("/", "Home")):
        page = client.get(path, headers=HTML).text
        assert re.findall(r'<a href="[^"]*" aria-current="page">([^<]*)</a>', page) == [label], path
