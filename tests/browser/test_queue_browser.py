"""An evaluator's run through the queue in a real Chromium: five calls in a row without typing an id, an
auto-QA suggestion with its evidence accepted on each, "Submit and next", then the agreement report; the
error pages people meet (an unknown address, an incomplete form). Own server and SQLite data directory
(fixtures prefixed q_); screenshots in build/screenshots/queue/."""

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.core.models import Job
from app.core.security import make_password_hasher
from app.evaluations.models import EvaluationAssignment
from app.interactions.models import Customer, Interaction, Segment
from app.nlp.models import AutoAnswerRow
from app.scorecards import service as scorecards
from app.scorecards.schema import parse_form
from tests.browser.conftest import running_server
from tests.conftest import TEST_PASSWORD, make_settings

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("EARSHOT_SCREENSHOT_DIR") or ROOT / "build" / "screenshots") / "queue"
CALLS = 5
FORM = {
    "key": "short_call", "name": "Short call form", "channels": ["call"], "sections": [
        {"id": "opening", "title": "Opening", "questions": [
            {"id": "greeting_brand", "text": "Greeted the customer with the brand name", "type": "yes_no", "points": 2},
            {"id": "verified", "text": "Verified the caller's identity", "type": "yes_no", "points": 3}]},
        {"id": "manner", "title": "Manner", "questions": [
            {"id": "tone", "text": "Tone", "type": "scale", "min": 1, "max": 5, "points": 4}]}],
}


@pytest.fixture(scope="module")
def q_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("queue-browser")
    settings = make_settings(data_dir)
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(session_factory(engine)) as session:
        hasher = make_password_hasher(settings)
        users = {name: auth_service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
            username=name, password=TEST_PASSWORD, display_name=label, roles=[role]))
            for name, label, role in (("q_eva", "Eva Evaluator", "evaluator"), ("q_ada", "Ada Agent", "agent"),
                                      ("q_admin", "Alex Admin", "admin"))}
        session.add(Job(kind="ingest.import", status="done", progress=1.0, progress_message="Saving",
                        payload={"filename": "chats.jsonl", "kind": "chats"}, result={"created": 3},
                        created_by=users["q_admin"].id))
        card, _, _ = scorecards.save_form(session=session, form=parse_form(FORM), actor=None, publish=True)
        now = datetime.now(UTC)
        for n in range(CALLS + 1):  # the last one is not assigned: picked by search
            customer = Customer(display_name=f"Customer {'ABCDEF'[n]}")
            session.add(customer)
            session.flush()
            subject = f"Card charged twice ({n + 1})" if n < CALLS else "Refund request"
            call = Interaction(channel="call", started_at=now - timedelta(days=3, hours=n), duration_seconds=95 + n,
                               agent_id=users["q_ada"].id, customer_id=customer.id, queue="Billing",
                               external_id=f"queue-call-{n}", source="test", subject=subject,
                               redacted_subject=subject)  # as ingest stores it (nothing personal in it)
            session.add(call)
            session.flush()
            for seq, text in enumerate(["Thank you for calling Acme Bank, this is Ada.",
                                        "Hi, my card was charged twice.", "Let me look at that for you."]):
                session.add(Segment(interaction_id=call.id, seq=seq, speaker="agent" if seq % 2 == 0 else "customer",
                                    start=seq * 12.0, end=seq * 12.0 + 10, text=text))
            session.add(AutoAnswerRow(
                interaction_id=call.id, question_id="greeting_brand", value="yes", confidence=0.9,
                summary="greeting found in the first 20 s",
                evidence=[{"kind": "span", "source_type": "segment", "source_id": 1, "speaker": "agent",
                           "start_time": 0.4, "end_time": 2.2, "category": "greeting"}]))
            if n < CALLS:
                session.add(EvaluationAssignment(interaction_id=call.id, agent_id=users["q_ada"].id,
                                                 evaluator_id=users["q_eva"].id, scorecard_id=card.id,
                                                 due_at=now + timedelta(days=2 * n - 1)))
    engine.dispose()
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_QUEUE_URL": "immediate",
           "EARSHOT_SECRET_KEY": "queue-browser-secret", "EARSHOT_PASSWORD_HASH_TIME_COST": "1",
           "EARSHOT_PASSWORD_HASH_MEMORY_KIB": "1024", "HF_HUB_OFFLINE": "1"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(data_dir, env) as base:
        yield base


@pytest.fixture
def q_page(q_server: str, browser: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=q_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/login")
    page.fill("input[name=username]", "q_eva")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_five_calls_in_a_row_from_the_queue_accepting_suggestions(q_page):
    page = q_page
    page.goto("/evaluations/queue")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == CALLS
    assert page.locator("tr.overdue").count() == 1 and "Customer A" in page.inner_text("table.queue")
    shot(page, "01-queue")
    rows.first.locator("a.button").click()
    page.click("text=Start evaluation")
    for n in range(CALLS):
        page.wait_for_url(re.compile(r"/evaluations/\d+/edit"))
        question = page.locator('.question[data-question="greeting_brand"]')
        box = question.locator(".suggestion")
        assert "Auto-QA suggests Yes" in box.inner_text() and "90 % confident" in box.inner_text()
        assert box.locator("button.evidence[data-seek]").count() == 1  # plays the call where it was heard
        assert page.is_checked('input[name="answer__greeting_brand"][value="yes"]')  # pre-selected
        if n == 0:
            shot(page, "02-form-with-suggestion")
        box.locator("button.accept-suggestion").click()
        assert box.locator(".state").inner_text() == "accepted"
        assert page.input_value('input[name="evidence__greeting_brand"]') == "0:00-0:02"
        page.check('input[name="answer__verified"][value="yes"]')
        page.check('input[name="answer__tone"][value="4"]')
        page.click("button[value=submit_next]")
    page.wait_for_url("**/evaluations/queue?flash=queue_empty")
    assert "Your queue is empty" in page.inner_text(".flash")
    assert page.locator("table.queue tbody tr td.muted").count() == 1
    page.goto("/evaluations/suggestions")
    row = page.locator("tr", has_text="Greeted the customer with the brand name")
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[1:5] == [str(CALLS), str(CALLS), "0", "100 %"]
    shot(page, "03-suggestion-agreement")


def test_people_read_errors_not_json(q_page):
    page = q_page
    response = page.goto("/this-page-does-not-exist")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("nav.mainnav").count() == 1 and "{" not in page.inner_text("main")
    shot(page, "04-not-found")
    response = page.goto("/evaluations?page=abc")
    assert response is not None and response.status == 422
    assert "should be a whole number" in page.inner_text("main") and "Input should be" not in page.content()
    # an incomplete form: the message sits beside each question, the first one has the focus, no ids shown
    page.goto("/evaluations/queue")
    page.fill("input[name=q]", "refund")
    page.click("form[role=search] button[type=submit]")
    assert "Customer F" in page.inner_text("table")
    shot(page, "05-pick-an-interaction")
    page.locator("a.button", has_text="Pick").first.click()
    page.click("text=Start evaluation")
    page.wait_for_url(re.compile(r"/evaluations/\d+/edit"))
    page.click("button[value=submit]")
    errors = page.locator(".question.has-error .field-error")
    assert errors.count() == 2 and errors.first.inner_text() == "Answer this question before submitting."
    focused = page.evaluate("() => document.activeElement && document.activeElement.name")
    assert focused == "answer__verified"
    alert = page.locator("div.error[role=alert]").inner_text()
    assert "2 questions need your attention" in alert and "verified" not in alert and "answers." not in alert
    shot(page, "06-form-errors")


def test_api_docs_render_under_the_csp(q_page):
    page = q_page
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto("/docs")
    try:
        page.wait_for_selector(".swagger-ui .info .title", timeout=30000)
    except Exception:
        raise AssertionError(f"docs did not render: {problems}") from None
    assert "Earshot" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10  # the endpoints are listed
    assert not [p for p in problems if "Content Security Policy" in p or "favicon" in p], problems
    shot(page, "07-api-docs")



def test_a_finished_import_does_not_reload_the_page(q_server, browser):
    context = browser.new_context(base_url=q_server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "q_admin")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.goto("/imports?job=1")
    page.wait_for_function("() => document.querySelector('[data-poll-job]').getAttribute('data-status') === 'done'")
    page.wait_for_timeout(2500)  # the page used to reload itself in a loop here
    assert len(loads) == 1, loads
    assert page.locator("[data-poll-job] .job-text").inner_text() == "Done"
    context.close()
