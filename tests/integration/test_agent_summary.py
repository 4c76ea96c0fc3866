"""An agent's scorecard summary PDF: the average with its interval, per-question averages, the evaluations,
disputes and coaching; scope (agents their own, coaches their team, evaluators everyone, others 404)."""

import subprocess
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.auth.models import User
from app.auth.service import principal_of
from app.coaching import service as coaching
from app.coaching.models import AssignmentCreate
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn, Evaluation
from tests.conftest import sign_in
from tests.integration.evaluations_support import load_small_form, make_interaction


def _answers(tone: int, verified: bool = True) -> list[AnswerIn]:
    return [AnswerIn(question_id="greeted", value=True), AnswerIn(question_id="tone", value=tone),
            AnswerIn(question_id="resolved", value=True), AnswerIn(question_id="verified", value=verified)]


@pytest.fixture
def world(session, make_user):
    eva = principal_of(make_user("evaluator", username="eva"))
    ada = make_user("agent", username="ada", team="Billing", display_name="Ada Lovelace")
    make_user("agent", username="ben", team="Sales", display_name="Ben Bennet")
    coach = principal_of(make_user("coach", username="colin", team="Billing"))
    make_user("coach", username="carla", team="Sales")
    scorecard_id = load_small_form(session)
    ids = []
    for day, tone in ((3, 5), (10, 4), (17, 5)):  # greeted 1 + tone + resolved 5 + verified → 100, 90.9, 100
        interaction = make_interaction(session, agent_id=ada.id, messages=2)
        evaluation = evaluations.create(session=session, principal=eva, interaction_id=interaction.id,
                                        scorecard_id=scorecard_id)
        evaluations.submit(session=session, principal=eva, evaluation_id=evaluation.id, answers=_answers(tone))
        ids.append((evaluation.id, day))
    evaluations.dispute(session=session, principal=principal_of(ada), evaluation_id=ids[1][0],
                        reason="My tone was fine all along", items=[])
    for evaluation_id, day in ids:  # spread over three weeks of November, after the dispute window mattered
        row = session.get(Evaluation, evaluation_id)
        row.submitted_at = datetime(2026, 11, day, 10, 0, tzinfo=UTC)
        session.add(row)
    session.commit()
    coaching.create_assignment(session=session, actor=coach, data=AssignmentCreate(
        agent_id=ada.id, topic_title="Warmer tone on hard calls", question_ids=["tone"]))
    return {"ada": ada, "ids": [i for i, _ in ids]}


def _text(tmp_path, content: bytes) -> str:
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_summary_pdf_shows_the_agents_scores_disputes_and_coaching(client, world, tmp_path):
    sign_in(client, "ada")
    response = client.get(f"/agents/{world['ada'].id}/summary.pdf", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
    text = _text(tmp_path, response.content)
    assert "Scorecard summary: Ada Lovelace" in text and "2026-11-01 to 2026-11-30" in text
    assert "97.0" in text  # the mean of 100, 90.9 and 100
    assert "not enough evaluations to say (n = 3)" in text  # 100, 90.9, 100: the 95 % interval is too wide
    assert "Tone" in text and "Greeted" in text and "Manner" in text  # per question and per section
    assert "My tone was fine all along" in text and "Warmer tone on hard calls" in text
    assert "2026-W45" in text and "90.9" in text  # the weekly trend chart's data table


def test_summary_for_a_period_without_evaluations_says_so(client, world, tmp_path):
    sign_in(client, "eva")
    response = client.get(f"/agents/{world['ada'].id}/summary.pdf", params={"from": "2025-01-01", "to": "2025-01-31"})
    assert response.status_code == 200
    text = _text(tmp_path, response.content)
    assert "Ada Lovelace" in text and "not enough evaluations to say" in text and "No scored evaluations" in text


def test_summary_scope(client, session, world):
    """Agents only their own, coaches their team, evaluators everyone; any other id is a 404."""
    users = {u.username: u.id for u in session.exec(select(User)).all()}
    for username, whose, status in (("ada", "ada", 200), ("ada", "ben", 404),  # agents: only their own
                                    ("colin", "ada", 200), ("carla", "ada", 404),  # coaches: their team
                                    ("eva", "ben", 200),  # evaluators: everyone
                                    ("eva", "eva", 404)):  # not an agent
        sign_in(client, username)
        response = client.get(f"/agents/{users[whose]}/summary.pdf", params={"from": "2026-11-01", "to": "2026-11-30"})
        assert response.status_code == status, (username, whose)


def test_bad_period_is_refused(client, world):
    sign_in(client, "ada")
    assert client.get(f"/agents/{world['ada'].id}/summary.pdf", params={"from": "soon"}).status_code == 422
    assert client.get(f"/agents/{world['ada'].id}/summary.pdf",
                      params={"from": "2026-12-01", "to": "2026-11-01"}).status_code == 422


def test_summary_is_linked_from_the_agent_home_and_the_scores_page(client, world):
    sign_in(client, "ada")
    assert f'href="/agents/{world["ada"].id}/summary.pdf"' in client.get("/").text
    sign_in(client, "eva")
    assert f'href="/agents/{world["ada"].id}/summary.pdf?target=80.0"' in client.get("/scores").text
