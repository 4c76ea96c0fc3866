"""Evaluator bias and agreement over time, end to end on SQLite and PostgreSQL: calibration sessions run through
the real services, where one evaluator scores exactly +10 points above the gold answers on every call (flagged)
and another is off by -10, 0 or +10 around it (not flagged); the pages, their scope and the CSV exports."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from app.auth.service import principal_of
from app.evaluations import agreement, bias, calibration
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn
from app.scorecards import service as scorecards
from app.scorecards.schema import parse_form
from tests.conftest import sign_in
from tests.integration.evaluations_support import make_interaction

pytestmark = pytest.mark.integration

# 10 points in all, so each point is 10 score points: greeted 1, tone 4 (1..5, one step = 1 point), resolved 5.
TEN_POINT_FORM = {
    "key": "ten_points", "name": "Ten-point call form", "channels": ["call"], "dispute_window_days": 3,
    "sections": [{"id": "call", "title": "Call", "questions": [
        {"id": "greeted", "text": "Greeted", "type": "yes_no", "points": 1},
        {"id": "tone", "text": "Tone", "type": "scale", "min": 1, "max": 5, "points": 4},
        {"id": "resolved", "text": "Resolved", "type": "yes_no", "points": 5}]}],
}
GOLD_TONE = [3, 2, 4, 3, 4, 2, 3]
NOISE_STEP = [1, -1, 0, -1, 1, 0, 0]  # mean 0: ±10 score points around gold
CLOSED = [datetime(2026, 9, 3, tzinfo=UTC), datetime(2026, 9, 10, tzinfo=UTC), datetime(2026, 9, 24, tzinfo=UTC),
          datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 10, 29, tzinfo=UTC),
          datetime(2026, 11, 5, tzinfo=UTC)]


def _answers(*, greeted: bool, tone: int) -> list[AnswerIn]:
    return [AnswerIn(question_id="greeted", value=greeted), AnswerIn(question_id="tone", value=tone),
            AnswerIn(question_id="resolved", value=True)]


def _score(session, principal, evaluation, answers):
    evaluations.submit(session=session, principal=principal, evaluation_id=evaluation.id, answers=answers)


@pytest.fixture
def calibrated(session, make_user):
    """Seven closed sessions (Sept ×3, Oct ×3, Nov ×1) led by `lead`; `lenient` says "greeted" when gold says
    not (+10 every time), `noise` moves tone by NOISE_STEP, `rare` joins only the last two sessions. Two more
    interactions are double-scored by lenient and noise outside calibration."""
    users = {name: make_user("evaluator", username=name) for name in ("lead", "lenient", "noise", "rare")}
    make_user("admin", username="boss")
    agent = make_user("agent", username="ada")
    who = {name: principal_of(user) for name, user in users.items()}
    scorecard, _, _ = scorecards.save_form(session=session, form=parse_form(TEN_POINT_FORM), actor=None, publish=True)
    for index, (tone, step, closed_at) in enumerate(zip(GOLD_TONE, NOISE_STEP, CLOSED, strict=True)):
        interaction = make_interaction(session, agent_id=agent.id, channel="call")
        raters = ["lenient", "noise"] + (["rare"] if index >= 5 else [])
        row = calibration.create(session=session, principal=who["lead"], title=f"Week {index}",
                                 interaction_id=interaction.id, scorecard_id=scorecard.id,
                                 evaluator_ids=[users[r].id for r in raters])
        given = {"lead": _answers(greeted=False, tone=tone), "lenient": _answers(greeted=True, tone=tone),
                 "noise": _answers(greeted=False, tone=tone + step), "rare": _answers(greeted=False, tone=tone)}
        for name in ["lead", *raters]:
            evaluation = calibration.start_evaluation(session=session, principal=who[name], calibration_id=row.id)
            _score(session, who[name], evaluation, given[name])
        calibration.close(session=session, principal=who["lead"], calibration_id=row.id)
        row.closed_at = closed_at
        session.add(row)
        session.commit()
    for tone in (3, 4):
        interaction = make_interaction(session, agent_id=agent.id, channel="call")
        for name, greeted in (("lenient", True), ("noise", False)):
            evaluation = evaluations.create(session=session, principal=who[name], interaction_id=interaction.id,
                                            scorecard_id=scorecard.id)
            _score(session, who[name], evaluation, _answers(greeted=greeted, tone=tone))
    return users, scorecard.id


def _rows(session, user):
    return {(r.evaluator_id, r.reference, r.measure): r
            for r in bias.evaluator_bias(session=session, principal=principal_of(user))}


def test_a_constant_plus_ten_is_flagged_and_noise_is_not(session, calibrated, make_user):
    users, scorecard_id = calibrated
    admin = make_user("admin", username="root")
    rows = _rows(session, admin)
    lenient = rows[(users["lenient"].id, "gold", bias.TOTAL)]
    assert lenient.bias.n_pairs == 7 and lenient.bias.offset == 10.0 and lenient.flagged
    assert lenient.verdict == "scores higher than gold"
    noise = rows[(users["noise"].id, "gold", bias.TOTAL)]
    assert noise.bias.n_pairs == 7 and noise.bias.offset == pytest.approx(0.0) and not noise.flagged
    assert noise.bias.interval.low < 0 < noise.bias.interval.high and noise.verdict == "no clear offset"
    rare = rows[(users["rare"].id, "gold", bias.TOTAL)]
    assert rare.bias.n_pairs == 2 and not rare.flagged and rare.verdict == bias.NOT_ENOUGH_PAIRS
    # per scale question: lenient's tone equals gold every time (offset 0, sd 0: not flagged)
    tone = rows[(users["lenient"].id, "gold", "tone")]
    assert tone.bias.offset == 0 and not tone.flagged and tone.measure_text == "Tone"
    assert (users["lenient"].id, "gold", "greeted") not in rows  # yes/no answers have no numeric offset
    # peers: 7 sessions + 2 double-scored interactions outside calibration; the lead's gold never counts
    peers = rows[(users["lenient"].id, "peers", bias.TOTAL)]
    assert peers.bias.n_pairs == 9 and peers.bias.offset > 0 and peers.flagged
    assert users["lead"].id not in {key[0] for key in rows}
    # a session still open (blind) adds nothing until it is closed
    lead, lenient_p, noise_p = (principal_of(users[n]) for n in ("lead", "lenient", "noise"))
    interaction = make_interaction(session, agent_id=None, channel="call")
    row = calibration.create(session=session, principal=lead, title="open", interaction_id=interaction.id,
                             scorecard_id=scorecard_id, evaluator_ids=[lenient_p.user_id, noise_p.user_id])
    for person in (lenient_p, noise_p):
        evaluation = calibration.start_evaluation(session=session, principal=person, calibration_id=row.id)
        _score(session, person, evaluation, _answers(greeted=person is lenient_p, tone=3))
    assert len(bias.peer_pairs(session=session)[lenient_p.user_id]) == 9
    assert len(bias.gold_pairs(session=session)[(lenient_p.user_id, bias.TOTAL)]) == 7


def test_bias_pages_scope_and_csv(client, calibrated):
    users, _ = calibrated
    sign_in(client, "boss")
    page = client.get("/calibrations/bias")
    assert page.status_code == 200
    assert "Lenient" in page.text and "scores higher than gold" in page.text and "not enough pairs to say" in page.text
    assert "mixed model" in page.text  # the method is stated on the page
    listing = client.get("/calibrations")
    assert "Evaluator bias" in listing.text and "scores higher than gold" in listing.text
    last = max(int(i) for i in re.findall(r'href="/calibrations/(\d+)"', listing.text))
    detail = client.get(f"/calibrations/{last}")
    assert "Offset vs gold over all sessions" in detail.text and "+10.0 (+10.0 to +10.0, n=7)" in detail.text
    assert 'href="/calibrations/bias"' in client.get("/scores?group_by=evaluator").text
    exported = client.get("/calibrations/bias?format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    lenient = next(r for r in table if r["evaluator"] == "Lenient" and r["reference"] == "gold"
                   and r["measure"] == "total score")
    assert (lenient["pairs"], lenient["mean_offset"], lenient["flagged"]) == ("7", "10.0", "yes")
    noise = next(r for r in table if r["evaluator"] == "Noise" and r["reference"] == "gold"
                 and r["measure"] == "total score")
    assert noise["flagged"] == "no" and float(noise["ci95_low"]) < 0 < float(noise["ci95_high"])
    # an evaluator sees their own rows only
    sign_in(client, "noise")
    own = client.get("/calibrations/bias")
    assert own.status_code == 200 and "Noise" in own.text and "Lenient" not in own.text
    own_csv = list(csv.DictReader(io.StringIO(client.get("/calibrations/bias?format=csv").text)))
    assert own_csv and {r["evaluator_id"] for r in own_csv} == {str(users["noise"].id)}
    assert "Lenient" not in client.get("/calibrations").text.split("New session")[0]
    assert "+10.0 (+10.0 to +10.0" not in client.get(f"/calibrations/{last}").text  # not the colleague's offset
    sign_in(client, "ada")
    assert client.get("/calibrations/bias").status_code == 403
    assert client.get("/calibrations/bias?format=csv").status_code == 403
    assert client.get("/calibrations/agreement").status_code == 403


def test_alpha_per_question_over_time(session, client, calibrated):
    _, scorecard_id = calibrated
    report = agreement.question_agreement(session=session, scorecard_id=scorecard_id, period="month")
    assert report.periods == ["2026-09", "2026-10", "2026-11"]
    cells = {q.question_id: q for q in report.questions}
    assert [q.question_id for q in report.questions] == ["greeted", "tone", "resolved"]
    assert cells["tone"].level == "ordinal" and cells["greeted"].level == "nominal"
    september = cells["tone"].cells["2026-09"]
    assert september.note is None and september.interval.n == 3 and september.raters == 2
    assert september.interval.low is not None and september.interval.low <= september.alpha <= september.interval.high
    assert cells["tone"].cells["2026-11"].note == "too few units"
    assert cells["resolved"].cells["2026-10"].note == "no variation"  # everybody said yes
    # greeted: lenient always yes, noise always no → systematic disagreement, alpha below 0
    assert cells["greeted"].cells["2026-10"].alpha < 0
    quarters = agreement.question_agreement(session=session, scorecard_id=scorecard_id, period="quarter")
    assert quarters.periods == ["2026-Q3", "2026-Q4"]
    assert next(q for q in quarters.questions if q.question_id == "tone").cells["2026-Q4"].interval.n == 4

    sign_in(client, "lenient")
    page = client.get("/calibrations/agreement")
    assert page.status_code == 200
    assert "too few units" in page.text and "no variation" in page.text and "<svg" in page.text
    assert "Data behind this chart" in page.text
    exported = client.get(f"/calibrations/agreement?scorecard_id={scorecard_id}&period=quarter&format=csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == 3 * 2 and {r["period"] for r in table} == {"2026-Q3", "2026-Q4"}
    resolved = [r for r in table if r["question_id"] == "resolved"]
    assert all(r["note"] == "no variation" and r["alpha"] == "" for r in resolved)


def test_pages_without_any_calibration(client, make_user):
    make_user("admin", username="boss")
    sign_in(client, "boss")
    assert "No paired scores yet" in client.get("/calibrations/bias").text
    assert "No closed calibration sessions" in client.get("/calibrations/agreement").text
    assert client.get("/calibrations/agreement?format=csv").text.strip() == ",".join(agreement.CSV_HEADERS)
