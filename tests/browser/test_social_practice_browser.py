"""Social care in Chromium: a thread silent 73 h after the first reply (three follow-ups) is shown as not
genuine and leaves the queue; one silent 71 h stays; the queue, the thread page and the dashboard print the
same due time for the same post. Screenshots in build/screenshots/social-practice/."""

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.core.security import make_password_hasher
from app.core.timeutil import utcnow
from app.social.sweep import sweep
from tests.browser.conftest import running_server
from tests.conftest import TEST_PASSWORD, make_settings
from tests.integration.social_helpers import thread

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("EARSHOT_SCREENSHOT_DIR") or ROOT / "build" / "screenshots") / "social-practice"


def _silent(session: Any, name: str, silent_hours: float, now: Any) -> int:
    """A complaint, the first reply `silent_hours` ago, then three follow-ups; the customer never answers."""
    start = now - timedelta(hours=silent_hours + 1)
    last = silent_hours + 1
    return thread(session, name, ("customer", 0, "You charged me twice, sort it out"),
                  ("agent", 1, "Sorry! Please DM us your account."), ("agent", last - 48, "Following up: DM us."),
                  ("agent", last - 24, "Still keen to help."), ("agent", last - 12, "Last try: DM us."),
                  start=start, followers=40)


@pytest.fixture(scope="module")
def care(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("social-practice")
    settings = make_settings(data_dir)
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    now = utcnow()
    with session_scope(session_factory(engine)) as session:
        auth_service.create_user(session=session, hasher=make_password_hasher(settings), actor=None, data=UserCreate(
            username="care_eva", password=TEST_PASSWORD, display_name="Care Evaluator", roles=["evaluator"]))
        ids = {"flagged": _silent(session, "over", 73, now), "kept": _silent(session, "under", 71, now),
               "again": thread(session, "again", ("customer", 0, "Bill is wrong"), ("agent", 0.2, "DM us"),
                               ("agent", 5, "Refund on its way"), ("customer", 29.5, "I DMed you, nothing back"),
                               start=now - timedelta(hours=30), followers=800_000)}
        sweep(session=session, now=now, post=lambda url, body: None)
    engine.dispose()
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_QUEUE_URL": "immediate",
           "EARSHOT_PASSWORD_HASH_TIME_COST": "1", "EARSHOT_PASSWORD_HASH_MEMORY_KIB": "1024", "HF_HUB_OFFLINE": "1"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(data_dir, env) as base:
        yield {"base": base, **ids}


@pytest.fixture
def signed_in(browser: Any, care: dict[str, Any]) -> Iterator[Any]:
    context = browser.new_context(base_url=care["base"], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/login")
    page.fill("input[name=username]", "care_eva")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{care['base']}/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_non_genuine_on_either_side_of_72_hours(signed_in: Any, care: dict[str, Any]) -> None:
    page = signed_in
    page.goto("/social/dashboard")
    flagged_list = page.locator("section.card", has_text="Flagged non-genuine")
    assert flagged_list.locator(f"a[href='/social/threads/{care['flagged']}']").count() == 1
    assert flagged_list.locator(f"a[href='/social/threads/{care['kept']}']").count() == 0
    page.goto(f"/social/threads/{care['flagged']}")
    _shot(page, "thread-flagged-73h")
    text = page.locator("main").inner_text()
    assert "Marked non-genuine" in text and "3 follow-ups" in text
    page.goto(f"/social/threads/{care['kept']}")
    _shot(page, "thread-kept-71h")
    assert "Marked non-genuine" not in page.locator("main").inner_text()


def test_queue_thread_and_dashboard_show_the_same_clock(signed_in: Any, care: dict[str, Any]) -> None:
    page = signed_in
    iid = care["again"]
    page.goto("/social")
    queue_due = page.locator(f"tr[data-interaction-id='{iid}'] .next-due .sla-clock").get_attribute("data-due")
    queue_label = page.locator(f"tr[data-interaction-id='{iid}'] .next-due .clock-name").inner_text()
    page.goto(f"/social/threads/{iid}")
    _shot(page, "thread-clocks")
    thread_due = page.locator("dd.next-due .sla-clock").get_attribute("data-due")
    thread_label = page.locator("dd.next-due .clock-name").inner_text()
    page.goto("/social/dashboard")
    _shot(page, "dashboard")
    dashboard_due = page.locator(f"table.urgent tr[data-interaction-id='{iid}'] .sla-clock").get_attribute("data-due")
    assert queue_due and queue_due == thread_due == dashboard_due
    assert queue_label == thread_label == "reply to the customer's latest post"
    assert "influencer" in page.locator("main").inner_text().lower()  # on the watch list, same clock


def test_a_second_click_on_log_reply_while_it_is_sent_is_ignored(signed_in: Any, care: dict[str, Any]) -> None:
    """The page's script sends a form once: a second click while the answer is awaited is ignored. (Without it
    the browser drops the first sending and sends the form again; the server refuses that second sending as
    "already sent", and its refusal is what the user would see instead of the result.)"""
    page = signed_in
    reply = "We have refunded the second charge, sorry for the trouble."
    page.goto(f"/social/threads/{care['kept']}")
    form = page.locator("form[action$='/reply']")
    if not form.is_visible():
        page.locator("details.log-reply summary").click()
    form.locator("textarea[name=text]").fill(reply)
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    second_click_sent = page.evaluate("""() => {
        const form = document.querySelector("form[action$='/reply']");
        form.querySelector("button[type=submit]").click();  // sent: the page waits for the answer
        const again = new SubmitEvent("submit", {bubbles: true, cancelable: true});
        return form.dispatchEvent(again);  // false: the script stopped it
    }""")
    assert second_click_sent is False
    page.wait_for_url(re.compile(r"message="))
    _shot(page, "reply-logged")
    assert len(sent) == 1, sent
    assert page.locator(".story .post-text", has_text=reply).count() == 1
    page.go_back()  # a page kept by the browser: its forms can be sent again (the server decides)
    assert page.evaluate("document.querySelectorAll('form[data-sending]').length") == 0
