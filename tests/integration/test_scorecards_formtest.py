"""Testing a draft form on past evaluations before publishing, through the API and the pages, on SQLite and
PostgreSQL: the report, publish refused (409) until the change is confirmed as reviewed, the audit trail.

The reference set: five evaluations with the small form (unweighted, 11 points: greeted 1, tone 4 on a
1-5 scale, resolved 5, verified 1), all answered yes except tone = 5, 4, 3, 2, 1:
  score now = 100 × (7 + tone − 1) / 11 → 100, 90.91, 81.82, 72.73, 63.64.
The draft makes "resolved" worth 10 points (16 in all): 100 × (12 + tone − 1) / 16 → 100, 93.75, 87.5,
81.25, 75; the changes are 0, 2.84, 5.68, 8.52, 11.36 (mean 5.68) and at the 80 pass mark one evaluation
(72.73 → 81.25) goes from fail to pass.
"""

import copy

import pytest
from sqlmodel import select

from app.auth.service import principal_of
from app.core.models import AuditEvent, Job
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn
from app.scorecards import service as scorecards
from app.scorecards.auto_check import AUTO_CHECK_JOB, auto_check_key
from app.scorecards.reference import ReferenceOptions, reference_set
from app.scorecards.schema import parse_form
from tests.conftest import sign_in
from tests.integration.evaluations_support import SMALL_FORM, load_small_form, make_interaction

TONES = [5, 4, 3, 2, 1]


def _draft(**question_changes):
    form = copy.deepcopy(SMALL_FORM)
    for section in form["sections"]:
        for question in section["questions"]:
            question.update(question_changes.get(question["id"], {}))
    return form


def _reference(session, make_user):
    evaluator = make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    principal = principal_of(evaluator)
    for tone in TONES:
        interaction = make_interaction(session, agent_id=agent.id, messages=2)
        draft = evaluations.create(session=session, principal=principal, interaction_id=interaction.id,
                                   scorecard_id=scorecard_id)
        evaluations.submit(session=session, principal=principal, evaluation_id=draft.id, answers=[
            AnswerIn(question_id="greeted", value=True), AnswerIn(question_id="tone", value=tone),
            AnswerIn(question_id="resolved", value=True), AnswerIn(question_id="verified", value=True)])
    return scorecard_id


def _save_draft(session, form):
    _, version, outcome = scorecards.save_form(session=session, form=parse_form(form), actor=None)
    assert outcome == "new_version"
    return version.number


def test_report_and_publish_needing_confirmation_through_the_api(client, session, make_user):
    scorecard_id = _reference(session, make_user)
    number = _save_draft(session, _draft(resolved={"points": 10}))
    sign_in(client, "eva")
    report = client.get(f"/api/scorecards/{scorecard_id}/versions/{number}/test", params={"auto_rules": False})
    assert report.status_code == 200, report.text
    body = report.json()
    summary = body["summary"]
    assert summary["reference_size"] == 5 and summary["old_mean"] == pytest.approx(81.82)
    assert summary["new_mean"] == pytest.approx(87.5) and summary["shift"] == pytest.approx(5.68)
    assert summary["fail_to_pass"] == 1 and summary["pass_to_fail"] == 0 and summary["needs_review"] is True
    assert sorted(e["delta"] for e in body["evaluations"]) == [0.0, 2.84, 5.68, 8.52, 11.36]
    assert [(e["key"], e["kind"], e["mean_effect"]) for e in body["effects"]] == [("resolved", "changed", 5.68)]

    refused = client.post(f"/api/scorecards/{scorecard_id}/versions/{number}/publish")
    assert refused.status_code == 409
    assert "would change scores" in refused.json()["error"]["message"]
    assert refused.json()["error"]["details"][0]["loc"] == "reviewed"
    assert scorecards.published_version(session=session, scorecard_id=scorecard_id).number == 1

    confirmed = client.post(f"/api/scorecards/{scorecard_id}/versions/{number}/publish", params={"reviewed": True})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "published"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "scorecard.publish_review")).one()
    assert event.after["shift"] == pytest.approx(5.68) and event.after["confirmed"] is True
    assert event.after["fail_to_pass"] == 1 and event.after["shift_low"] > 0


def test_a_change_that_moves_nothing_publishes_without_confirmation(client, session, make_user):
    scorecard_id = _reference(session, make_user)
    number = _save_draft(session, _draft(greeted={"text": "Greeted the customer warmly"}))
    sign_in(client, "eva")
    body = client.get(f"/api/scorecards/{scorecard_id}/versions/{number}/test").json()
    assert body["summary"]["shift"] == 0.0 and body["summary"]["needs_review"] is False and body["effects"] == []
    published = client.post(f"/api/scorecards/{scorecard_id}/versions/{number}/publish")
    assert published.status_code == 200
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "scorecard.publish_review")).one()
    assert event.after["confirmed"] is False and event.after["needs_review"] is False


def test_saving_with_publish_keeps_a_draft_when_it_needs_review(client, session, make_user):
    scorecard_id = _reference(session, make_user)
    sign_in(client, "eva")
    response = client.put(f"/api/scorecards/{scorecard_id}", params={"publish": True},
                          json=_draft(verified={"points": 3}))
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith("Saved as draft version 2, not published.")
    assert scorecards.published_version(session=session, scorecard_id=scorecard_id).number == 1
    assert scorecards.latest_version(session=session, scorecard_id=scorecard_id).status == "draft"
    again = client.put(f"/api/scorecards/{scorecard_id}", params={"publish": True, "reviewed": True},
                       json=_draft(verified={"points": 3}))
    assert again.status_code == 200 and again.json()["published_version"] == 2


def test_test_page_then_publish_with_the_review_box(client, session, make_user):
    scorecard_id = _reference(session, make_user)
    number = _save_draft(session, _draft(resolved={"points": 10}))
    sign_in(client, "eva")
    detail = client.get(f"/scorecards/{scorecard_id}?version={number}")
    assert f"/scorecards/{scorecard_id}/versions/{number}/test" in detail.text and "Test this draft" in detail.text
    page = client.get(f"/scorecards/{scorecard_id}/versions/{number}/test", params={"auto": ""})
    assert page.status_code == 200
    assert "would change scores" in page.text and "<svg" in page.text and "Data behind this chart" in page.text
    assert "+5.68" in page.text and "I have reviewed the change" in page.text
    assert 'data-testid="fail-to-pass">1<' in page.text

    refused = client.post(f"/scorecards/{scorecard_id}/versions/{number}/publish", data={"target": "80"},
                          follow_redirects=False)
    assert refused.status_code == 409 and "would change scores" in refused.text
    assert scorecards.published_version(session=session, scorecard_id=scorecard_id).number == 1
    # a stricter pass mark is carried from the report to the check: at 95 only the 100 passes either way
    done = client.post(f"/scorecards/{scorecard_id}/versions/{number}/publish",
                       data={"reviewed": "on", "target": "80"}, follow_redirects=False)
    assert done.status_code == 303
    assert scorecards.published_version(session=session, scorecard_id=scorecard_id).number == number


def test_importing_with_publish_on_the_page_keeps_a_draft_that_changes_scores(client, session, make_user):
    scorecard_id = _reference(session, make_user)
    sign_in(client, "eva")
    text = scorecards.export_yaml(version=scorecards.published_version(session=session, scorecard_id=scorecard_id))
    saved = client.post("/scorecards/import", data={"yaml_text": text.replace("points: 5", "points: 10"),
                                                    "publish": "on"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/versions/2/test?saved=1")
    assert scorecards.published_version(session=session, scorecard_id=scorecard_id).number == 1
    assert "It was not published" in client.get(saved.headers["location"]).text


def test_auto_rule_check_runs_as_a_job_and_reports_disagreement(client, session, make_user):
    # the agent's messages say "message 1": a rule looking for "thank you for contacting" answers no,
    # where every evaluator answered yes
    scorecard_id = _reference(session, make_user)
    number = _save_draft(session, _draft(greeted={"auto_answer": {
        "rule": "phrase", "params": {"phrase": "thank you for contacting"}}}))
    sign_in(client, "eva")
    before = client.get(f"/api/scorecards/{scorecard_id}/versions/{number}/test").json()
    assert before["auto_check_job"] is None and before["auto_checks"][0]["note"] == "not checked yet"
    page = client.get(f"/scorecards/{scorecard_id}/versions/{number}/test")
    assert "Check the auto-QA rules" in page.text
    # a check in progress (as a worker would leave it) is followed on the page; a failed one can be re-run
    version = scorecards.get_version_by_number(session=session, scorecard_id=scorecard_id, number=number)
    options = ReferenceOptions()
    job = Job(kind=AUTO_CHECK_JOB, status="running", progress=0.4, progress_message="2 of 5 interactions",
     payload={"version_id": version.id, **options.as_form()}, dedupe_key=auto_check_key(
         version, options, reference_set(session=session, scorecard_id=scorecard_id)))
    session.add(job)
    session.commit()
    running = client.get(f"/scorecards/{scorecard_id}/versions/{number}/test").text
    assert f'data-poll-job="{job.id}"' in running and "2 of 5 interactions" in running
    assert 'http-equiv="refresh"' in running
    assert "Check the auto-QA rules" not in running
    job.status, job.error = "failed", "worker lost"
    session.add(job)
    session.commit()
    assert "The last check failed: worker lost" in client.get(f"/scorecards/{scorecard_id}/versions/{number}/test").text
    started = client.post(f"/scorecards/{scorecard_id}/versions/{number}/auto-check", data={"limit": "200"},
                          follow_redirects=False)
    assert started.status_code == 303  # the test queue runs the job at once
    body = client.get(f"/api/scorecards/{scorecard_id}/versions/{number}/test").json()
    assert body["auto_check_job"]["status"] == "done" and body["auto_check_job"]["progress"] == 1.0
    assert body["auto_check_job"]["job_id"] == job.id  # the failed job, run again
    [check] = body["auto_checks"]
    assert (check["question_id"], check["compared"], check["disagreed"]) == ("greeted", 5, 5)
    assert check["disagreement_rate"] == 1.0 and {d["auto"] for d in check["disagreements"]} == {"no"}
    assert body["summary"]["needs_review"] is False  # an auto rule alone moves no score
    assert "5 disagreeing evaluation(s)" in client.get(started.headers["location"]).text
    again = client.post(f"/api/scorecards/{scorecard_id}/versions/{number}/auto-check")
    assert again.status_code == 202 and again.json()["id"] == body["auto_check_job"]["job_id"]  # reused
    no_rules = client.post(f"/api/scorecards/{scorecard_id}/versions/1/auto-check")
    assert no_rules.status_code == 422


def test_bad_options_and_unknown_versions(client, session, make_user):
    scorecard_id = _reference(session, make_user)
    sign_in(client, "eva")
    assert client.get(f"/api/scorecards/{scorecard_id}/versions/9/test").status_code == 404
    assert client.get(f"/api/scorecards/{scorecard_id}/versions/1/test", params={"limit": 0}).status_code == 422
    bad = client.get(f"/scorecards/{scorecard_id}/versions/1/test", params={"since": "soon"},
                     headers={"accept": "text/html"})
    assert bad.status_code == 422
    empty = client.get(f"/api/scorecards/{scorecard_id}/versions/1/test", params={"since": "2099-01-01"}).json()
    assert empty["summary"]["reference_size"] == 0 and "not enough evaluations to say" in empty["verdict"]
    empty_page = client.get(f"/scorecards/{scorecard_id}/versions/1/test", params={"since": "2099-01-01"})
    assert empty_page.status_code == 200 and "No evaluations to test against yet" in empty_page.text
    assert "<svg" not in empty_page.text
