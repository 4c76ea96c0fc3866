"""A real Earshot server (uvicorn in a subprocess, its own SQLite data directory) and Debian's Chromium
driven by Playwright. Nothing is downloaded: Playwright is pointed at /usr/bin/chromium.

Give `page.wait_for_function` a function ("() => …"), never a bare expression: Playwright polls an expression
through eval(), which the app's CSP (no 'unsafe-eval') refuses whenever the first check is not already true."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.auth import service as auth_service
from app.auth.models import UserCreate
from app.core.db import make_engine, session_factory, session_scope
from app.core.migrate import upgrade
from app.core.security import make_password_hasher
from tests.conftest import TEST_PASSWORD, make_settings

CHROMIUM = os.environ.get("EARSHOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
ROLE_USERS = {"admin": "b_admin", "evaluator": "b_eva", "coach": "b_coach", "agent": "b_agent",
              "executive": "b_exec"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    env = {**os.environ, "EARSHOT_DATA_DIR": str(data_dir), "EARSHOT_QUEUE_URL": "immediate",
           "EARSHOT_PASSWORD_HASH_TIME_COST": "1", "EARSHOT_PASSWORD_HASH_MEMORY_KIB": "1024",
           "HF_HUB_OFFLINE": "1"}
    settings = make_settings(data_dir)
    upgrade(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    with session_scope(session_factory(engine)) as session:
        hasher = make_password_hasher(settings)
        team = auth_service.get_or_create_team(session=session, name="Billing")
        for role, username in ROLE_USERS.items():
            auth_service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
                username=username, password=TEST_PASSWORD, display_name=f"Browser {role.title()}",
                roles=[role], team_id=team.id if role in ("coach", "agent") else None))
    engine.dispose()
    with running_server(data_dir, env) as base:
        yield base


@contextmanager
def running_server(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """Earshot served by uvicorn in a subprocess on a free port, stopped on exit; its log in data_dir."""
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # generous: a loaded 2-core box imports slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("server did not start: " + (data_dir / "server.log").read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; `make test` installs it (scripts/system-deps.sh)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def sign_in_as(page: object) -> Callable[[str], object]:
    def do(role: str) -> object:
        page.goto("/login")  # type: ignore[attr-defined]
        page.fill("input[name=username]", ROLE_USERS[role])  # type: ignore[attr-defined]
        page.fill("input[name=password]", TEST_PASSWORD)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_url("**/")  # type: ignore[attr-defined]
        return page

    return do
