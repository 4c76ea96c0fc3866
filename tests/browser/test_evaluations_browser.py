"""The evaluation form in a real Chromium: conditional questions appear and disappear, the live score comes
from the server, drafts save on their own, a transcript click becomes evidence. Self-contained: its own
server process and SQLite data directory (fixtures prefixed ev_ so they never clash with shared ones)."""

import os
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.core.security import make_password_hasher
from app.evaluations import service as evaluations
from app.interactions.models import Interaction, Segment
from app.scorecards import service as scorecards
from app.speech.redaction import redact_text as redact_transcript_line
from tests.browser.conftest import running_server
from tests.conftest import TEST_PASSWORD, make_settings

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    data_dir = tmp_path_factory.mktemp("ev-browser")
    settings = make_settings(data_dir)
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(session_factory(engine)) as session:
        hasher = make_password_hasher(settings)
        users = {}
        for username, roles in (("ev_eva", ["evaluator"]), ("ev_ada", ["agent"])):
            users[username] = auth_service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
                username=username, password=TEST_PASSWORD, display_name=username, roles=roles))
        scorecards.load_directory(session=session, directory=ROOT / "scorecards")
        interaction = Interaction(channel="call", started_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                                  agent_id=users["ev_ada"].id, external_id="browser-call-1", source="test")
        session.add(interaction)
        session.flush()
        for seq, text in enumerate(["Thank you for calling Acme Bank, this is Ada.", "Hi, my card was charged twice.",
                                    "Can I have your date of birth and postcode?"]):
            session.add(Segment(interaction_id=interaction.id, seq=seq, speaker="agent" if seq % 2 == 0 else "customer",
                                start=seq * 12.0, end=seq * 12.0 + 10, text=text,
                                redacted_text=redact_transcript_line(text)))  # as the speech pipeline stores it
        session.commit()
        card = scorecards.get_by_key(session=session, key="voice_call")
        evaluation = evaluations.create(session=session, principal=auth_service.principal_of(users["ev_eva"]),
                                        interaction_id=interaction.id, scorecard_id=card.id)
        evaluation_id = evaluation.id
    engine.dispose()
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_QUEUE_URL": "immediate",
           "EARSHOT_SECRET_KEY": "browser-test-secret"}
    with running_server(data_dir, env) as base:
        yield base, evaluation_id


@pytest.fixture
def ev_page(ev_server: tuple[str, int], browser: object) -> Iterator[object]:
    """A page in the suite's one Chromium (tests/browser/conftest.py): two sync Playwright sessions in one
    process would clash."""
    base, _ = ev_server
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/login")
    page.fill("input[name=username]", "ev_eva")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_conditional_questions_live_score_autosave_and_evidence(ev_page, ev_server):
    page = ev_page
    _, evaluation_id = ev_server
    page.goto(f"/evaluations/{evaluation_id}/edit")
    verified = page.locator('.question[data-question="identity_verified"]')
    assert not verified.is_visible()  # shown only when account details were discussed
    page.check('input[name="answer__account_discussed"][value="yes"]')
    verified.wait_for(state="visible")
    page.check('input[name="answer__account_discussed"][value="no"]')
    verified.wait_for(state="hidden")
    page.check('input[name="answer__account_discussed"][value="yes"]')
    page.check('input[name="answer__identity_verified"][value="no"]')
    page.wait_for_function("() => document.getElementById('live-score').textContent.trim() === '0.0'")
    assert "critical failure: identity_verified" in page.locator("#live-note").inner_text()
    def saves_verified_yes(response) -> bool:
        body = response.request.post_data or ""
        return (response.request.method == "POST" and response.url.endswith("/edit") and "autosave" in body
                and re.search(r'name="answer__identity_verified"\s+yes', body) is not None)

    with page.expect_response(saves_verified_yes) as saved:
        page.check('input[name="answer__identity_verified"][value="yes"]')
    assert saved.value.status == 200
    page.wait_for_function("() => document.getElementById('autosave-status').textContent === 'Draft saved'")
    page.click('input[name="comment__greeting_brand"]')
    page.click("#t-2")
    assert page.input_value('input[name="evidence__greeting_brand"]') == "0:24"
    page.reload()
    assert page.is_checked('input[name="answer__identity_verified"][value="yes"]')  # the draft was saved
    assert page.locator('.question[data-question="identity_verified"]').is_visible()
