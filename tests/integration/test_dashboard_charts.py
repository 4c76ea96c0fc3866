"""Dashboard charts drawn by the one chart module (app/core/charts.py): each page carries the SVG with its
accessible title and the data table behind it, figures computed from the records and limited to the viewer's
scope."""

from datetime import timedelta

import pytest

from app.auth.service import principal_of
from app.core.timeutil import utcnow
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn, Evaluation
from app.nlp.models import CategoryHitRow, InteractionAnalytics
from app.social.reports import Attainment
from app.social.views import sla_chart
from tests.conftest import sign_in
from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

pytestmark = pytest.mark.integration
HTML = {"accept": "text/html"}


def week_of(moment):
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def test_scores_page_draws_the_weekly_trend_with_intervals(client, session, make_user):
    evaluator, agent = make_user("evaluator", username="eve"), make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    now = utcnow()
    for _ in range(3):
        draft = evaluations.create(session=session, principal=principal_of(evaluator),
                                   interaction_id=make_interaction(session, agent_id=agent.id).id,
                                   scorecard_id=scorecard_id)
        evaluations.submit(session=session, principal=principal_of(evaluator), evaluation_id=draft.id,
                           answers=[AnswerIn(**a) for a in FULL_MARKS])
    rows = session.query(Evaluation).order_by(Evaluation.id).all()
    # last week: 60 and 80 (mean 70, two evaluations: "not enough to say"); this week: 100
    for row, score, when in zip(rows, (60.0, 80.0, 100.0), (now - timedelta(days=7), now - timedelta(days=7), now),
                                strict=True):
        row.score, row.submitted_at = score, when
    session.commit()
    sign_in(client, "eve")
    page = client.get("/scores?target=75", headers=HTML).text
    assert "Average score per week with its 95 % interval" in page and 'role="img"' in page
    assert f"<td>{week_of(now - timedelta(days=7))}</td><td>70.0</td>" in page
    assert f"<td>{week_of(now)}</td><td>100.0</td>" in page
    # n=2: the band is drawn (clipped to the scale) but called too wide; n=1: no interval at all
    assert "0.0–100.0 (too wide to conclude)" in page and "needs two evaluations" in page
    assert "<polygon" in page or 'fill-opacity="0.15"' in page  # the band the title promises
    assert "target 75.0" in page  # the target line

    other = make_user("agent", username="other")
    sign_in(client, other.username)
    assert "Average score per week" not in client.get("/scores", headers=HTML).text  # nothing in her scope


def test_sla_chart_shows_the_share_of_clocks_met_per_platform():
    chart = sla_chart([Attainment("facebook", 5, 3, 1, 1, 1, 1, 0), Attainment("x", 2, 0, 0, 2, 0, 0, 1)])
    assert chart.rows == [["facebook", "75.0", "50.0"], ["x", "", ""]]  # pending clocks are not counted yet
    assert "Social SLA compliance per platform" in str(chart.svg)
    assert sla_chart([]) is None


def test_analytics_page_draws_sentiment_and_top_categories_in_scope(client, session, make_user):
    ada, ben = make_user("agent", username="ada"), make_user("agent", username="ben")
    make_user("evaluator", username="eve")
    now = utcnow()
    for agent, sentiment, category in ((ada, -0.5, "billing_dispute"), (ada, 0.1, "billing_dispute"),
                                       (ben, 0.9, "cancellation")):
        interaction = make_interaction(session, agent_id=agent.id, started_at=now - timedelta(hours=1))
        session.add(InteractionAnalytics(interaction_id=interaction.id, channel="chat", sentiment_customer=sentiment,
                                         categories=[category]))
        session.add(CategoryHitRow(interaction_id=interaction.id, category=category, source_type="message",
                                   source_id=1, speaker="customer", start_char=0, end_char=4, text="text"))
    session.commit()
    sign_in(client, "eve")
    page = client.get("/analytics", headers=HTML).text
    assert "Customer sentiment per week" in page and f"<td>{week_of(now)}</td><td>0.17</td><td>3</td>" in page
    assert "Top categories, last 30 days" in page
    sign_in(client, "ada")
    own = client.get("/analytics", headers=HTML).text
    assert f"<td>{week_of(now)}</td><td>-0.20</td><td>2</td>" in own  # only her two interactions
    assert "ancellation" not in own.split("Top categories")[1].split("</figure>")[0]
