"""The call player in a real Chromium: clicking a transcript line seeks the audio there and highlights the line,
clicking the timeline seeks to that point, the timeline shows overtalk and silence, and an agent's page plays the
call without offering the unredacted view. Self-contained server (fixtures prefixed pl_)."""

import os
import subprocess
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
from app.ingest.calls import ingest_recording
from app.ingest.models import RecordingMetadata
from app.interactions.models import Segment
from app.scorecards import service as scorecards
from app.speech.models import CallTranscript
from tests.browser.conftest import running_server
from tests.conftest import TEST_PASSWORD, make_settings

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
LINES = [("agent", 0.0, 4.0, "Thank you for calling, this is Ada."), ("customer", 3.0, 8.0, "Hi, I was charged twice."),
         ("agent", 12.0, 16.0, "Let me look at that for you."), ("customer", 16.5, 19.5, "Thanks.")]


@pytest.fixture(scope="module")
def pl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    data_dir = tmp_path_factory.mktemp("player-browser")
    settings = make_settings(data_dir)
    upgrade(settings.resolved_database_url)
    wav = data_dir / "call.wav"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "2", str(wav), "synth", "20", "sine", "440"], check=True)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(session_factory(engine)) as session:
        hasher = make_password_hasher(settings)
        for username, roles in (("pl_eva", ["evaluator"]), ("pl_ada", ["agent"])):
            auth_service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
                username=username, password=TEST_PASSWORD, display_name=username, roles=roles))
        stored = ingest_recording(
            session=session, settings=settings, queue=None, chunks=[wav.read_bytes()], filename="call.wav",
            metadata=RecordingMetadata(external_id="player-1", started_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
                                       agent="pl_ada"), actor=None)
        interaction_id, recording_id = stored.interaction.id, stored.recording.id
        session.add(CallTranscript(interaction_id=interaction_id, recording_id=recording_id, model="tiny.en",
                                   speaker_separation="channels", audio_seconds=20.0, processing_seconds=1.0,
                                   word_count=20))  # transcribed, nothing to redact: the original is played
        for seq, (speaker, start, end, text) in enumerate(LINES):
            session.add(Segment(interaction_id=interaction_id, seq=seq, speaker=speaker, start=start, end=end,
                                text=text, redacted_text=text))
        session.commit()
        scorecards.load_directory(session=session, directory=ROOT / "scorecards")
        evaluator = auth_service.principal_of(auth_service.get_user_by_username(session=session, username="pl_eva"))
        evaluation_id = evaluations.create(session=session, principal=evaluator, interaction_id=interaction_id,
                                           scorecard_id=scorecards.get_by_key(session=session, key="voice_call").id).id
    engine.dispose()
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_QUEUE_URL": "immediate",
           "EARSHOT_SECRET_KEY": "browser-test-secret"}
    with running_server(data_dir, env) as base:
        yield base, interaction_id, evaluation_id


def open_call(browser: object, base: str, username: str, interaction_id: int,
              path: str | None = None) -> tuple[object, object, list[str]]:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto(path or f"/interactions/{interaction_id}")
    page.wait_for_function("() => document.querySelector('[data-player-audio]').readyState >= 1")
    return context, page, errors


def current_time(page: object) -> float:
    return float(page.evaluate("document.querySelector('[data-player-audio]').currentTime"))  # type: ignore[attr-defined]


def test_transcript_click_and_timeline_click_seek_the_audio(pl_server, browser, tmp_path):
    base, interaction_id, _ = pl_server
    context, page, errors = open_call(browser, base, "pl_eva", interaction_id)
    try:
        assert page.locator(".timeline-svg rect.tl-overtalk").count() == 1  # 3–4 s, both talk
        assert page.locator(".timeline-svg rect.tl-silence").count() == 1  # 8–12 s, nobody talks
        desc = page.locator(".timeline-svg desc").text_content() or ""
        assert "both at once 0:01 in 1 place" in desc and "silence 0:04 in 1 gap" in desc, desc
        page.locator("[data-transcript] li").nth(2).click()
        page.wait_for_function("() => document.querySelector('[data-player-audio]').currentTime >= 12")
        assert 12.0 <= current_time(page) < 14.0
        assert page.locator("[data-transcript] li").nth(2).get_attribute("aria-current") == "true"
        # keyboard: the time is a button, so Tab + Enter seeks too
        page.locator("[data-transcript] li .seek").nth(1).focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => Math.abs(document.querySelector('[data-player-audio]').currentTime - 3) < 1")
        box = page.locator(".timeline-svg").bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
        page.wait_for_function("() => document.querySelector('[data-player-audio]').currentTime >= 14.5")
        assert 14.5 <= current_time(page) < 16.5
        assert page.locator("a", has_text="View unredacted").count() == 1
        shots = Path(os.environ.get("EARSHOT_SCREENSHOT_DIR", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "player-evaluator.png"), full_page=True)
    finally:
        context.close()  # type: ignore[attr-defined]
    assert not errors, errors


def test_agent_plays_own_call_without_the_unredacted_view(pl_server, browser):
    base, interaction_id, _ = pl_server
    context, page, errors = open_call(browser, base, "pl_ada", interaction_id)
    try:
        assert page.locator("a", has_text="View unredacted").count() == 0
        page.locator("[data-transcript] li").nth(3).click()
        page.wait_for_function("() => document.querySelector('[data-player-audio]').currentTime >= 16.5")
    finally:
        context.close()  # type: ignore[attr-defined]
    assert not errors, errors


def test_evaluator_hears_the_call_beside_the_form_and_a_line_becomes_evidence(pl_server, browser):
    base, interaction_id, evaluation_id = pl_server
    context, page, errors = open_call(browser, base, "pl_eva", interaction_id, f"/evaluations/{evaluation_id}/edit")
    try:
        evidence = page.locator('input[name^="evidence__"]').first
        evidence.focus()  # the question being worked on
        page.locator("[data-transcript] li").nth(1).click()
        page.wait_for_function("() => document.querySelector('[data-player-audio]').currentTime >= 3")
        assert evidence.input_value() == "0:03"
        assert page.locator(".timeline-svg rect.tl-overtalk").count() == 1
    finally:
        context.close()  # type: ignore[attr-defined]
    assert not errors, errors
