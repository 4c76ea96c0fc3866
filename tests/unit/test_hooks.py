"""The core hooks (app/core/hooks.py): every entry point — web app, worker, command line, demo loader, these
tests — starts with a handler for every hook, each from the feature that owns the rule; a hook nobody handles
raises instead of skipping its work; a question (single hook) has one answer."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.connectors.webhooks import EVENT_TYPES
from app.core import hooks
from app.core.hooks import UnhandledHook

ROOT = Path(__file__).resolve().parents[2]

# hook → the module whose handler must answer it (the feature that owns the rule)
OWNERS = {
    "publish_event": ["app.connectors.hooks"],
    "survey_answers_changed": ["app.reviews.hooks"],
    "social_thread_written": ["app.social.hooks"],
    "scored_evaluations": ["app.evaluations.hooks"],
    "auto_qa_rules": ["app.scorecards.hooks"],
    "call_metrics": ["app.speech.hooks"],
    "call_player": ["app.speech.hooks"],
}

REPORT = """
import json
from app.core import hooks
print("HOOKS " + json.dumps({hook.name: [h.__module__ for h in hook.handlers] for hook in hooks.catalogue()}))
"""

ENTRY_POINTS = {
    "web app": "from app.main import create_app\ncreate_app(Settings())",
    "worker": "from app.core.jobs import build_queue\nbuild_queue(Settings())",  # what `earshot worker` runs
    "command line": "import app.cli",
    # the loader itself, with no feature's demo to load
    "demo loader": "from app.core import demo\ndemo.iter_feature_modules = lambda module: iter(())\n"
                   "demo.load_demo(Settings(), log=print)",
}


def _handlers_after(start: str, tmp_path: Path) -> dict[str, list[str]]:
    """Start an entry point in a fresh interpreter (no hooks module imported before), report the handlers."""
    script = f"from app.core.settings import Settings\n{start}\n{REPORT}"
    env = {**os.environ, "EARSHOT_DATA_DIR": str(tmp_path), "EARSHOT_DATABASE_URL": f"sqlite:///{tmp_path}/e.db",
           "EARSHOT_QUEUE_URL": f"sqlite:///{tmp_path}/queue.db"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("HOOKS "))
    found: dict[str, list[str]] = json.loads(line.removeprefix("HOOKS "))
    return found


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_every_entry_point_starts_with_every_hook_handled_by_its_owner(entry_point: str, tmp_path: Path) -> None:
    assert _handlers_after(ENTRY_POINTS[entry_point], tmp_path) == OWNERS


def test_a_process_that_never_loads_the_hooks_has_none(tmp_path: Path) -> None:
    """The check above can fail: importing the services alone registers nothing."""
    found = _handlers_after("import app.surveys.service, app.ingest.service, app.nlp.service", tmp_path)
    assert set(found) == set(OWNERS) and not any(found.values())


def test_these_tests_run_with_the_same_handlers() -> None:
    assert hooks.unhandled() == []
    assert {hook.name: [h.__module__ for h in hook.handlers] for hook in hooks.catalogue()} == OWNERS


def test_a_hook_nobody_handles_raises_instead_of_skipping() -> None:
    change = hooks.SurveyAnswersChanged(session=None, response_ids=[1])  # type: ignore[arg-type]
    with hooks.SURVEY_ANSWERS_CHANGED.handled_by(), pytest.raises(UnhandledHook, match="survey_answers_changed"):
        hooks.SURVEY_ANSWERS_CHANGED.ask(change)
    event = hooks.Event(session=None, type=hooks.EventType.DISPUTE_OPENED, data={})  # type: ignore[arg-type]
    with hooks.PUBLISH_EVENT.handled_by(), pytest.raises(UnhandledHook, match="publish_event"):
        hooks.PUBLISH_EVENT.emit(event)


def test_loading_the_hooks_refuses_to_start_with_one_missing() -> None:
    with hooks.CALL_PLAYER.handled_by(), pytest.raises(UnhandledHook, match="call_player"):
        hooks.load_hooks()
    hooks.load_hooks()  # all there again


def test_a_question_has_one_answer() -> None:
    def other_answer(change: hooks.SurveyAnswersChanged) -> int:
        return 0

    with pytest.raises(ValueError, match="takes one handler"):
        hooks.SURVEY_ANSWERS_CHANGED.handler(other_answer)
    registered = hooks.SURVEY_ANSWERS_CHANGED.handlers
    hooks.SURVEY_ANSWERS_CHANGED.handler(registered[0])  # the same function again (a re-import) replaces itself
    assert hooks.SURVEY_ANSWERS_CHANGED.handlers == registered


def test_every_outbound_event_type_is_documented_for_webhooks() -> None:
    assert set(EVENT_TYPES) == set(hooks.EventType)
