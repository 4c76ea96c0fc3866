"""The home pages' statistics reused for a few seconds (app/core/figures_cache.py): never shown to a caller of
another scope, dropped at once by a write through the server, recomputed after the bound."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from app.coaching import sources
from app.coaching.effectiveness import ScoreObservation
from app.core.figures_cache import FiguresCache
from app.core.timeutil import utcnow
from app.surveys import service as surveys
from app.surveys.imports import import_csv
from tests.conftest import sign_in

pytestmark = pytest.mark.integration
HTML = {"accept": "text/html"}
DUE = (date.today() + timedelta(days=30)).isoformat()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _improving(better: bool) -> list[ScoreObservation]:
    """Three evaluations before coaching and four after, on the coached question: better or worse after."""
    now, out = datetime.now(UTC), []
    after = [90, 100, 90, 100] if better else [40, 30, 40, 30]
    for i, (days, score) in enumerate([(-10, 50), (-11, 60), (-12, 70)] + [(1 + j, s) for j, s in enumerate(after)]):
        at = now + timedelta(days=days)
        out += [ScoreObservation(at=at, score=score, evaluation_id=i + 1),
                ScoreObservation(at=at, score=score, question_id="hold_etiquette", evaluation_id=i + 1)]
    return out


def _coached(client, agent_id):
    made = client.post("/api/coaching/assignments", json={
        "agent_id": agent_id, "topic_title": "Hold", "goal": "Ask before holding", "due_date": DUE,
        "question_ids": ["hold_etiquette"]})
    assert made.status_code == 201, made.text
    for status in ("in_progress", "completed"):
        assert client.post(f"/api/coaching/assignments/{made.json()['id']}/status",
                           json={"status": status}).status_code == 200


def _share(client) -> str:
    home = client.get("/", headers=HTML).text
    found = re.search(r"Followed by improvement</a></dt><dd>([^<]*)</dd>", home)
    assert found, home
    return found.group(1)


@pytest.fixture
def clock(app):
    clock = Clock()
    app.state.figures_cache = FiguresCache(30, clock=clock)
    return clock


def test_coaching_share_is_per_scope_dropped_by_a_write_and_recomputed_after_the_bound(
        client, make_user, session, monkeypatch, clock):
    from tests.integration.evaluations_support import load_questions

    load_questions(session, "hold_etiquette")
    make_user("coach", username="colin", team="Billing")
    make_user("coach", username="cleo", team="Technical")
    ada = make_user("agent", username="ada", team="Billing")
    ben = make_user("agent", username="ben", team="Billing")
    cara = make_user("agent", username="cara", team="Technical")
    observed = {ada.id: _improving(True), ben.id: _improving(True), cara.id: _improving(False)}
    monkeypatch.setattr(sources, "load_score_observations", lambda _session, agent_id: observed[agent_id])

    sign_in(client, "colin")
    _coached(client, ada.id)
    assert _share(client) == "1 of 1"
    sign_in(client, "cleo")  # same role, another team: its own figure, not colin's
    _coached(client, cara.id)
    assert _share(client) == "0 of 1"

    sign_in(client, "colin")
    assert _share(client) == "1 of 1"  # still colin's own after cleo's view
    observed[ada.id] = _improving(False)  # the scores change without a write through the server...
    assert _share(client) == "1 of 1"  # ...so the stored figure is shown within the bound
    clock.now += 31
    assert _share(client) == "0 of 1"  # and recomputed after it

    _coached(client, ben.id)  # a write through the server: shown on the very next view
    assert _share(client) == "1 of 2"


def test_survey_panel_shows_an_import_at_once(client, make_user, session, clock):
    make_user("executive", username="exec")
    make_user("agent", username="ada")
    sign_in(client, "exec")
    assert "No answered surveys in the last 6 months." in client.get("/", headers=HTML).text
    now = utcnow()
    rows = ["response_id,invited_at,responded_at,channel,agent,rating", f"r1,{now.isoformat()},{now.isoformat()},"
            "call,ada,bad"]
    source = surveys.create_source(session=session, name="pulse", actor=None)
    import_csv(session=session, source=source, text="\n".join(rows) + "\n", actor=None)
    home = client.get("/", headers=HTML).text
    assert f"{now:%Y-%m}" in home and "100.0% bad" in home
