"""Sampling guidance: the precision the current sample gives, and a feasible plan per agent and per team."""

import pytest

from app.auth.service import principal_of
from app.evaluations import planner
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn, Evaluation
from tests.conftest import sign_in
from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction


def test_half_width_is_the_t_interval():
    assert planner.half_width(sd=10, n=4) == pytest.approx(15.91, abs=0.01)  # t(3) = 3.182
    assert planner.half_width(sd=10, n=1) is None


def test_sampling_page_states_current_precision_and_a_feasible_plan(client, session, make_user):
    admin = make_user("admin", username="root")
    agents = [make_user("agent", username=f"agent{i}", team="Billing") for i in range(4)]
    scorecard_id = load_small_form(session)
    for agent in agents:
        for _ in range(3):
            draft = evaluations.create(session=session, principal=principal_of(admin), scorecard_id=scorecard_id,
                                       interaction_id=make_interaction(session, agent_id=agent.id).id)
            evaluations.submit(session=session, principal=principal_of(admin), evaluation_id=draft.id,
                               answers=[AnswerIn(**a) for a in FULL_MARKS])
    for row, score in zip(session.query(Evaluation).order_by(Evaluation.id).all(), [60.0, 80.0, 100.0] * 4,
                          strict=True):
        row.score = score
    session.commit()
    guide = planner.guide(session=session, principal=principal_of(admin), margin=5.0)
    assert guide is not None and guide.sd == pytest.approx(20.0) and guide.team_size == 4
    assert guide.current_per_agent_month == pytest.approx(1.0)  # 3 evaluations in 90 days
    assert guide.current.agent_month is None  # one a month says nothing about one agent's month
    by_n = {r.per_agent_month: r for r in guide.rows}
    assert by_n[4].team_month == pytest.approx(planner.half_width(sd=20, n=16))
    # ±5 per team-month needs 4 × n ≥ ~66 pooled scores: 12 per agent (48) is not enough either
    assert guide.feasible is None
    sign_in(client, "root")
    page = client.get("/evaluations/sampling?margin=10")
    assert "What your sample tells you" in page.text and "about <strong>1.0 evaluations a month</strong>" in page.text
    assert 'class="feasible"' in page.text and "A feasible plan" in page.text
