"""Each role's main journey in Debian's Chromium against a real server holding the demo data set, with a
full-page screenshot of every page visited (build/screenshots/journeys/, or $EARSHOT_SCREENSHOT_DIR).

The demo is loaded without the speech model: its transcription jobs go to a queue no worker reads, and the
demo calls get their transcripts straight from the demo scripts (demo/calls/*.txt), a line every few seconds.
The server itself runs with the "immediate" queue, so jobs started from the pages (the PDF pack) run inline.
"""

import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from app.auth.demo import DEMO_PASSWORD
from app.auth.service import get_user_by_username, principal_of
from app.core.db import session_scope
from app.core.features import iter_feature_modules
from app.core.jobs import build_runtime
from app.core.migrate import upgrade
from app.core.models import Job
from app.core.timeutil import utcnow
from app.evaluations import service as evaluations
from app.evaluations.demo import demo_answers
from app.evaluations.models import AnswerIn, Evaluation
from app.interactions import service as interactions
from app.interactions.models import Interaction, Recording, Segment
from app.reviews import service as reviews
from app.reviews.meetings import create_meeting
from app.reviews.models import CaseStatus, MeetingCreate, ReviewCase
from app.scorecards import service as scorecards
from app.social import service as social
from app.social.threads import Post, record_thread
from app.speech.redaction import redact_text as redact_transcript_line
from app.speech.service import DONE
from tests.browser.conftest import running_server
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("EARSHOT_SCREENSHOT_DIR") or ROOT / "build" / "screenshots" / "journeys")
SECONDS_PER_LINE = 4.0
USERS = {"evaluator": "eva", "agent": "ada", "coach": "colin", "executive": "exec", "social": "sam",
         "admin": "admin", "other_agent": "ben", "second_evaluator": "evan"}


@dataclass
class Journeys:
    base: str
    ids: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- the data set


def _transcribe_from_scripts(session: Session, calls_dir: Path) -> None:
    """Segments from the demo call scripts ("AGENT: text" lines), as the speech model would have made them."""
    for recording, interaction in session.exec(select(Recording, Interaction).where(
            Recording.interaction_id == Interaction.id)).all():
        script = calls_dir / f"{interaction.external_id}.txt"
        if not script.exists():
            continue
        lines = [line.split(":", 1) for line in script.read_text(encoding="utf-8").splitlines() if ":" in line]
        for seq, (speaker, text) in enumerate(lines):
            session.add(Segment(interaction_id=interaction.id, seq=seq, speaker=speaker.strip().lower(),
                                start=seq * SECONDS_PER_LINE, end=seq * SECONDS_PER_LINE + SECONDS_PER_LINE - 0.5,
                                text=text.strip(), redacted_text=redact_transcript_line(text.strip())))
        recording.transcription_status = DONE
        session.add(recording)
        session.flush()
        assert interaction.id is not None
        interactions.reindex_interaction(session=session, interaction_id=interaction.id)
    for job in session.exec(select(Job).where(Job.status == "queued")).all():
        job.status = "done"  # nothing will run them: the transcripts are there
        session.add(job)
    session.commit()


def _scored_evaluation(session: Session, *, agent: str, failing: str | None) -> int:
    """A fresh voice-call evaluation by eva of the agent's latest call: every answer good except `failing`."""
    evaluator = principal_of(get_user_by_username(session=session, username="eva"))
    agent_user = get_user_by_username(session=session, username=agent)
    assert agent_user is not None
    call = session.exec(select(Interaction).where(Interaction.agent_id == agent_user.id, Interaction.channel == "call")
                        .order_by(col(Interaction.started_at).desc())).first()
    voice = scorecards.get_by_key(session=session, key="voice_call")
    assert call is not None and call.id is not None and voice is not None and voice.id is not None
    # the demo may have scored this call already: a second evaluation on purpose (the journeys need a fresh one)
    evaluation = evaluations.create(session=session, principal=evaluator, interaction_id=call.id, scorecard_id=voice.id,
                                    again=True)
    assert evaluation.id is not None
    form = evaluations.form_of(session=session, evaluation=evaluation)
    answers = []
    for answer in demo_answers(form, random.Random(1)):
        question = form.question(answer.question_id)
        if question is not None and question.type == "yes_no":
            answer = AnswerIn(question_id=answer.question_id, value=answer.question_id != failing
                              and answer.question_id != "account_discussed")
        answers.append(answer)
    evaluations.submit(session=session, principal=evaluator, evaluation_id=evaluation.id, answers=answers)
    return evaluation.id


def _fresh_social_thread(session: Session) -> int:
    """A customer post from five minutes ago: well inside the first-response target."""
    posted = utcnow() - timedelta(minutes=5)
    thread = record_thread(session=session, platform="twitter", source="journeys", posts=[Post(
        post_id="journey-1", author_role="customer", author_handle="@jo_journey", follower_count=120, sent_at=posted,
        text="My router has been blinking red since this morning and the help line hangs up on me")])
    assert thread.id is not None
    social.refresh_thread(session=session, interaction_id=thread.id)
    session.commit()
    return thread.id


def _review_meeting(session: Session) -> int:
    """This month's meeting with two cases on its agenda (the demo's own meeting has one)."""
    executive = get_user_by_username(session=session, username="exec")
    cases = session.exec(select(ReviewCase).where(ReviewCase.status != CaseStatus.CLOSED)
                         .order_by(col(ReviewCase.opened_at).desc()).limit(2)).all()
    assert executive is not None and len(cases) == 2
    for case in cases:  # prepared for the meeting, as the demo prepares its own cases
        for to in (CaseStatus.INVESTIGATING, CaseStatus.READY):
            if case.status == CaseStatus.OPEN or (to == CaseStatus.READY and case.status == CaseStatus.INVESTIGATING):
                reviews.change_status(session=session, case=case, to=to, actor=None, reason="journey: prepared")
    meeting = create_meeting(session=session, actor=principal_of(executive), data=MeetingCreate(
        period=utcnow().strftime("%Y-%m"), held_on=utcnow().date(), title="Journey review meeting",
        attendees=["Erin Executive"], case_ids=[c.id for c in cases if c.id is not None], additional=True))
    session.commit()
    assert meeting.id is not None
    return meeting.id


@pytest.fixture(scope="module")
def journeys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journeys]:
    data_dir = tmp_path_factory.mktemp("journeys")
    # the demo's transcription jobs land in a queue file no worker reads: the speech model never runs
    settings = make_settings(data_dir, queue_url=f"sqlite:///{data_dir / 'unread-queue.db'}")
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings)
    for module in sorted(iter_feature_modules("demo"), key=lambda m: (m.DEMO_ORDER, m.__name__)):
        if module.__name__ != "app.speech.demo":
            module.load_demo(runtime=runtime, log=lambda _: None)
    with session_scope(runtime.sessions) as session:
        _transcribe_from_scripts(session, settings.demo_dir / "calls")
        ids = {"ada_evaluation": _scored_evaluation(session, agent="ada", failing="summarised"),
               "ben_evaluation": _scored_evaluation(session, agent="ben", failing="greeting_brand"),
               "social_thread": _fresh_social_thread(session), "meeting": _review_meeting(session)}
        cara = get_user_by_username(session=session, username="cara")
        assert cara is not None
        other = session.exec(select(Evaluation).where(Evaluation.agent_id == cara.id)).first()
        assert other is not None and other.id is not None
        ids["cara_evaluation"] = other.id
    runtime.engine.dispose()
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_QUEUE_URL": "immediate",
           "EARSHOT_SECRET_KEY": "journeys-secret", "EARSHOT_PASSWORD_HASH_TIME_COST": "1",
           "EARSHOT_PASSWORD_HASH_MEMORY_KIB": "1024", "HF_HUB_OFFLINE": "1"}
    with running_server(data_dir, env) as base:
        yield Journeys(base=base, ids=ids)


# ---------------------------------------------------------------- pages, errors, screenshots


@pytest.fixture(scope="module", autouse=True)
def screenshot_dir() -> Path:
    """The folder, emptied of a previous run's screenshots (only those: it may be a folder of the user's)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("[0-9][0-9]-*.png"):
        old.unlink()
    return SHOTS


_shot_number = iter(range(1, 1000))


def shot(page: Any, role: str, name: str) -> None:
    """Full-page screenshot <nn>-<role>-<page>.png, numbered in visiting order (from the top, so sticky
    panels sit where a reader first sees them)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{next(_shot_number):02d}-{role}-{name}.png"), full_page=True)


@pytest.fixture
def open_as(browser: Any, journeys: Journeys) -> Iterator[Callable[..., Any]]:
    """open_as(role, width=1280) → a signed-in page; JavaScript errors and console errors fail the test."""
    contexts, errors = [], []

    def do(role: str, *, width: int = 1280) -> Any:
        context = browser.new_context(base_url=journeys.base, viewport={"width": width, "height": 900},
                                      accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{role}: {exc}"))
        page.on("console", lambda msg: errors.append(f"{role} console: {msg.text} ({msg.location.get('url')})")
                if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico") else None)
        page.goto("/login")
        page.fill("input[name=username]", USERS[role])
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{journeys.base}/")
        return page

    yield do
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript or console errors: {errors}"


# ---------------------------------------------------------------- the journeys


def test_evaluator_scores_a_call_end_to_end(open_as):
    page = open_as("evaluator")
    shot(page, "evaluator", "home")
    page.click("nav.mainnav >> text=My queue")
    page.wait_for_url("**/evaluations/queue")
    shot(page, "evaluator", "queue")
    page.locator("table.grid tbody tr", has_text="call").first.locator("a[href^='/interactions/']").click()
    page.wait_for_url(re.compile(r"/interactions/\d+$"))
    assert page.locator("ol.transcript li").count() > 3  # transcribed
    shot(page, "evaluator", "call")
    page.click("text=Evaluate this call")
    page.wait_for_url("**/evaluations/new?interaction_id=*")
    shot(page, "evaluator", "new-evaluation")
    page.click("button:has-text('Start evaluation')")
    page.wait_for_url(re.compile(r"/evaluations/\d+/edit$"))

    # evidence: the question's comment field is focused, a transcript line clicked → its time, and the call seeks
    page.click('input[name="comment__greeting_brand"]')
    line = page.locator("#t-2")
    start = float(line.get_attribute("data-start"))
    line.click()
    assert page.input_value('input[name="evidence__greeting_brand"]') == f"0:{int(start):02d}"
    page.wait_for_function(f"() => Math.abs(document.querySelector('[data-player-audio]').currentTime - {start}) < 0.5")
    page.fill('input[name="comment__greeting_brand"]', "Brand said in the first sentence")

    # answer every question shown (the conditional ones appear once their condition is answered)
    for question in page.locator(".question").all():
        if not question.is_visible():
            continue
        kind = question.get_attribute("data-type")
        if kind == "comment":
            question.locator("textarea").fill("A clear, friendly call.")
        else:
            question.locator("input[type=radio]").first.check()
    expect(page.locator("#live-note")).not_to_contain_text("still to answer")
    # a pause, as anyone takes before submitting: the page saves the draft on its own, and Submit still submits
    # (an autosave once used up the form's token, and Submit was refused as "already sent")
    page.wait_for_function("() => document.getElementById('autosave-status').textContent === 'Draft saved'")
    shot(page, "evaluator", "evaluation-form")
    page.click("button[value=submit]")
    page.wait_for_url(re.compile(r"/evaluations/\d+\?flash=submitted$"))
    assert "submitted" in page.locator("h1 .badge").inner_text()
    assert page.locator(".flash").inner_text() == "Evaluation submitted."
    breakdown = page.locator(".breakdown").inner_text()
    assert re.search(r"Score: \d+\.\d", breakdown)
    assert "Fully resolved on the call" in breakdown  # a choice shows its label, not its stored value
    assert "missing" not in breakdown  # every question shown was answered
    assert "Brand said in the first sentence" in page.content() and f"0:{int(start):02d}" in page.content()
    shot(page, "evaluator", "evaluation-submitted")


def test_agent_disputes_own_evaluation_and_cannot_open_anothers(open_as, journeys):
    page = open_as("agent")
    shot(page, "agent", "home")
    mine, theirs = journeys.ids["ada_evaluation"], journeys.ids["cara_evaluation"]
    page.click("nav.mainnav >> text=Evaluations")
    shot(page, "agent", "evaluations")
    page.click(f"a[href='/evaluations/{mine}']")
    page.wait_for_url(f"**/evaluations/{mine}")
    assert page.request.get(f"/evaluations/{theirs}").status == 404  # (a fetch: a page load would log the 404)
    assert page.request.get(f"/api/evaluations/{theirs}").status == 404
    page.click("summary:has-text('Dispute this evaluation')")
    page.fill("textarea[name=reason]", "I did summarise at 1:10: please listen again.")
    page.fill("input[name=dispute__summarised]", "Summary given before the goodbye")
    shot(page, "agent", "evaluation-dispute-form")
    page.click("button:has-text('Send dispute')")
    page.wait_for_url(f"**/evaluations/{mine}*")
    assert "disputed" in page.locator("h1 .badge").inner_text()
    assert "I did summarise at 1:10" in page.locator("section.dispute").inner_text()
    shot(page, "agent", "evaluation-disputed")

    assert "Your dispute was sent" in page.locator(".flash").inner_text()  # a confirmation after the action

    scorer = open_as("evaluator")  # eva scored it: by default someone else resolves the dispute
    scorer.goto(f"/evaluations/{mine}")
    assert scorer.locator("#resolve").count() == 0 and "Another evaluator or an admin resolves it" in scorer.content()
    lead = open_as("second_evaluator")
    lead.goto(f"/evaluations/{mine}")
    assert "Summarised what was agreed: Summary given before the goodbye" in lead.locator("section.dispute").inner_text()
    assert lead.locator("#resolve button:has-text('Resolve')").is_visible()
    shot(lead, "evaluator", "dispute-to-resolve")


def test_coach_assigns_retraining_from_an_evaluation(open_as, journeys):
    page = open_as("coach")
    shot(page, "coach", "home")
    evaluation = journeys.ids["ben_evaluation"]
    page.goto(f"/evaluations/{evaluation}")
    # open already, under the score breakdown: the evaluation lost points
    assert page.locator("details.assign-coaching[open]").count() == 1
    assert page.is_checked("input[name=question_ids][value=greeting_brand]")
    page.fill("textarea[name=goal]", "Say the brand and your name in the first sentence of every call.")
    page.fill("input[name=due_date]", (utcnow() + timedelta(days=14)).date().isoformat())
    shot(page, "coach", "evaluation-assign-coaching")
    page.click("button:has-text('Assign coaching')")
    page.wait_for_url(re.compile(r"/coaching/\d+"))
    assert "Assignment created from evaluation" in page.content()
    shot(page, "coach", "coaching-assignment")
    topic = "Greeted the customer and named the company"
    page.click("nav.mainnav >> text=Coaching")
    page.wait_for_url("**/coaching")
    row = page.locator("table tr", has_text=topic)
    assert row.count() == 1 and "Ben Agent" in row.inner_text() and "evaluation" in row.inner_text()
    shot(page, "coach", "coaching-list")

    agent = open_as("other_agent")
    assert topic in agent.locator("article.panel", has_text="My coaching").inner_text()
    shot(agent, "agent", "home-with-coaching")


def test_executive_walks_a_review_meeting_and_downloads_the_pack(open_as, journeys, tmp_path):
    """The meeting page is one document: text typed in every block (findings, decision, action, minutes)
    survives whichever button is pressed; an empty decision is refused with everything kept."""
    page = open_as("executive")
    shot(page, "executive", "home")
    meeting = journeys.ids["meeting"]
    page.goto("/reviews/meetings")
    shot(page, "executive", "meetings")
    page.click(f"a[href^='/reviews/meetings/{meeting}']")
    assert "Case 1 of 2" in page.locator("nav.walk-nav strong").inner_text()
    shot(page, "executive", "meeting-agenda")
    sheet = page.locator("#meeting-sheet")
    titles = []
    for position, (kind, extra) in enumerate([("retrain_staff", "action_agent_id"),
                                              ("change_shop_process", "action_site_id")]):
        page.wait_for_selector(f"strong[data-position='{position}']")
        titles.append(page.locator("nav.walk-nav strong").inner_text().split(": ", 1)[1])
        minutes = f"Minutes after case {position + 1}: Erin chaired"
        staff, customer = f"Staff side {position + 1}", f"Customer side {position + 1}"
        sheet.locator("textarea[name=minutes]").fill(minutes)
        sheet.locator("textarea[name=staff_notes]").fill(staff)
        sheet.locator("textarea[name=customer_notes]").fill(customer)
        sheet.locator("select[name=root_cause]").select_option(index=1)
        # an empty decision: refused, and nothing typed anywhere is lost
        sheet.locator("textarea[name=decision]").fill("")
        sheet.locator("button[value=decide]").click()
        page.wait_for_selector("p.error")
        assert "write what the meeting decided" in page.locator("p.error").inner_text()
        for name, value in (("minutes", minutes), ("staff_notes", staff), ("customer_notes", customer)):
            assert sheet.locator(f"textarea[name={name}]").input_value() == value
        shot(page, "executive", f"meeting-empty-decision-{position + 1}")
        sheet.locator("textarea[name=decision]").fill(f"Decided in the meeting: {kind}")
        sheet.locator("select[name=action_kind]").select_option(kind)
        sheet.locator(f"select[name={extra}]").select_option(index=1)
        if kind == "retrain_staff":
            sheet.locator("input[name=action_topic]").fill("Explaining the bill")
        sheet.locator("input[name=action_description]").fill(f"Action {position + 1} from the meeting")
        sheet.locator("button[value=action]").click()  # adding the action saves every other block too
        page.wait_for_selector(f"strong[data-position='{position}']")
        assert f"Action {position + 1} from the meeting" in page.locator("table.grid", has_text="Owner").inner_text()
        sheet.locator("button[value=decide]").click()
        page.wait_for_selector("p.notice")
        assert "Decision recorded" in page.locator("p.notice").inner_text()
        assert f"Decided in the meeting: {kind}" in page.locator("p.notes").inner_text()
        for name, value in (("minutes", minutes), ("staff_notes", staff), ("customer_notes", customer)):
            assert sheet.locator(f"textarea[name={name}]").input_value() == value
        assert "decided" in page.locator("span.badge.decided").first.inner_text()
        shot(page, "executive", f"meeting-case-{position + 1}")
        if position == 0:
            sheet.locator("button[rel=next]").click()
    page.click("button:has-text('Render the PDF pack')")
    page.wait_for_selector("text=Download the pack")
    shot(page, "executive", "meeting-pack-ready")
    with page.expect_download() as download:
        page.click("text=Download the pack")
    pdf = tmp_path / "pack.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        text = " ".join(text.split())
        for title in titles:
            assert " ".join(title.split())[:30] in text


def test_social_agent_answers_a_post_before_its_sla(open_as, journeys):
    page = open_as("social")
    shot(page, "social", "home")
    thread = journeys.ids["social_thread"]
    page.click("section >> a[href='/social']")
    page.wait_for_url("**/social")
    shot(page, "social", "care-queue")
    page.click(f"a[href='/social/threads/{thread}']")
    page.wait_for_url(f"**/social/threads/{thread}")
    assert "pending" in page.locator("dl.clocks dd[data-clock=first_response]").inner_text()
    assert "first response" in page.locator("dl.clocks dd.next-due").inner_text()
    shot(page, "social", "thread")
    page.fill("form[action$='/reply'] textarea[name=text]", "Sorry about that! Please DM us your account number.")
    page.click("button:has-text('Log reply')")
    page.wait_for_url(f"**/social/threads/{thread}?message=*")
    assert "met" in page.locator("dl.clocks dd[data-clock=first_response]").inner_text()
    assert "Please DM us your account number" in page.locator("ol.story").inner_text()
    shot(page, "social", "thread-answered")


# ---------------------------------------------------------------- every role: home, keyboard, tablet width

HOMES = ["evaluator", "agent", "coach", "executive", "social", "admin"]


@pytest.mark.parametrize("role", HOMES)
def test_home_page_loads_without_errors(open_as, role):
    page = open_as(role)
    assert page.locator("main h1, main h2").first.is_visible()
    shot(page, role, "home-check")


def test_login_form_and_main_nav_are_reachable_by_keyboard(browser, journeys):
    context = browser.new_context(base_url=journeys.base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.name || document.activeElement.textContent.trim()"))
        if page.evaluate("document.activeElement.name") == "username":
            assert _focus_visible(page)
    assert {"username", "password"} <= set(reached) and any("Sign in" in r for r in reached if r)
    page.fill("input[name=username]", USERS["evaluator"])
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{journeys.base}/")
    # the bar's links and its group menus (<summary>, opened with Enter) are each one Tab stop
    nav_links = page.locator("nav.mainnav > a, nav.mainnav summary").count()
    seen = set()
    for _ in range(nav_links + 10):
        page.keyboard.press("Tab")
        if page.evaluate("!!document.activeElement.closest('nav.mainnav')"):
            seen.add(page.evaluate("document.activeElement.getAttribute('href') || document.activeElement.textContent"))
            assert _focus_visible(page), f"no visible focus on {seen}"
    assert len(seen) >= nav_links
    shot(page, "evaluator", "keyboard-focus")
    context.close()


def _focus_visible(page: Any) -> bool:
    """The focused element shows an outline or a box shadow."""
    return bool(page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
        return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }"""))


TABLET_PAGES = {
    "evaluator": ["/", "/evaluations/queue", "/evaluations", "/search?q=broadband", "/scores", "/calibrations"],
    "agent": ["/", "/evaluations", "/coaching"],
    "coach": ["/", "/coaching", "/coaching/effectiveness"],
    "executive": ["/", "/surveys", "/reviews", "/reviews/meetings", "/social", "/social/dashboard"],
    "admin": ["/admin/users", "/admin/audit", "/jobs"],
}


@pytest.mark.parametrize("role", sorted(TABLET_PAGES))
def test_main_pages_fit_a_tablet_width(open_as, role):
    page = open_as(role, width=768)
    overflowing = []
    for path in TABLET_PAGES[role]:
        page.goto(path)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if widths[0] > widths[1] + 1:
            overflowing.append(f"{path}: {widths[0]} > {widths[1]}")
        name = path.strip("/").replace("/", "-").split("?")[0] or "home"
        shot(page, role, f"tablet-{name}")
    assert not overflowing, overflowing
