"""Before/after coaching figures on hand-built observations (no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.coaching.effectiveness import (
    EffectivenessWindow,
    ScoreObservation,
    Verdict,
    assignment_effect,
    compare,
    rollup,
    split_before_after,
)

T0 = datetime(2026, 6, 1, tzinfo=UTC)  # coaching assigned
T1 = T0 + timedelta(days=20)  # coaching completed


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_hand_checked_improvement():
    # before 50, 60, 70 (mean 60, variance 100); after 90, 100, 90, 100 (mean 95, variance 33.3)
    # Welch: se = sqrt(100/3 + 33.3/4) = 6.455, t = 35 / 6.455 = 5.42, df = 3.0 → two-sided p = 0.0123
    result = compare([50, 60, 70], [90, 100, 90, 100], measure="topic")
    assert result.before_mean == 60 and result.after_mean == 95 and result.change == 35
    assert result.p_value == pytest.approx(0.0123, abs=0.0005)
    assert result.verdict == Verdict.IMPROVED and result.improved
    assert "60.0 → 95.0" in result.statement and "+35.0" in result.statement and "p = 0.012" in result.statement


def test_hand_checked_change_that_could_be_chance():
    # 60, 70, 80 → 80, 90, 100: +20, t = 20 / sqrt(200/3) = 2.449, df = 4 → p = 0.0705
    result = compare([60, 70, 80], [80, 90, 100], measure="overall")
    assert result.change == 20 and result.p_value == pytest.approx(0.0705, abs=0.0005)
    assert result.verdict == Verdict.NO_CLEAR_CHANGE and result.improved


def test_decline_and_constant_samples():
    assert compare([100, 100, 100], [0, 0, 0], measure="topic").verdict == Verdict.DECLINED
    same = compare([100, 100, 100], [100, 100, 100], measure="topic")
    assert same.p_value == 1.0 and same.verdict == Verdict.NO_CLEAR_CHANGE and not same.improved


def test_not_enough_data_on_either_side():
    result = compare([60, 70], [90, 95, 99], measure="topic")
    assert result.verdict == Verdict.NOT_ENOUGH_DATA and result.change is None and not result.measured
    assert "2 before and 3 after" in result.statement
    assert compare([1, 2, 3], [4, 5], measure="topic").verdict == Verdict.NOT_ENOUGH_DATA
    assert compare([1, 2, 3], [], measure="topic", completed=False).verdict == Verdict.NOT_COMPLETED


def _observations() -> list[ScoreObservation]:
    obs = []
    # evaluation ids 1..4 before (day -40, -30, -20, -10), 5 during coaching (day 5), 6..9 after (21..24)
    for eid, (when, overall, q) in enumerate([(-40, 40, 0), (-30, 70, 0), (-20, 60, 0), (-10, 65, 100),
                                               (5, 70, 0), (21, 80, 100), (22, 85, 100), (23, 75, 100),
                                               (24, 90, 0)], start=1):
        obs.append(ScoreObservation(at=day(when), score=overall, evaluation_id=eid))
        obs.append(ScoreObservation(at=day(when), score=q, question_id="verify_identity", evaluation_id=eid))
    return obs


def test_split_ignores_the_coaching_period_and_applies_the_window():
    obs = _observations()
    before, after = split_before_after(obs, question_ids=None, started=T0, completed=T1,
                                       window=EffectivenessWindow(evaluations=3))
    assert before == [70, 60, 65]  # the 3 nearest before, in time order; day 5 counts on neither side
    assert after == [80, 85, 75]
    before, after = split_before_after(obs, question_ids=["verify_identity"], started=T0, completed=T1,
                                       window=EffectivenessWindow(evaluations=None, days=25))
    assert before == [0, 100] and after == [100, 100, 100, 0]


def test_topic_observations_of_several_questions_count_once_per_evaluation():
    obs = [ScoreObservation(at=day(-1), score=0, question_id="a", evaluation_id=1),
           ScoreObservation(at=day(-1), score=100, question_id="b", evaluation_id=1),
           ScoreObservation(at=day(-1), score=100, question_id="c", evaluation_id=1)]
    before, _ = split_before_after(obs, question_ids=["a", "b"], started=T0, completed=None,
                                   window=EffectivenessWindow())
    assert before == [50]


def _effect(aid: int, coach: int, topic: str, status: str = "completed"):
    return assignment_effect(assignment_id=aid, agent_id=10 + aid, coach_id=coach, team_id=1, topic_title=topic,
                             topic_key=f"q:{topic}", status=status, question_ids=["verify_identity"],
                             created_at=T0, completed_at=T1 if status != "in_progress" else None,
                             observations=_observations() if aid != 3 else [],
                             window=EffectivenessWindow(evaluations=4))


def test_assignment_effect_and_rollups():
    effect = _effect(1, coach=7, topic="ID check")
    assert effect.primary is effect.topic
    assert effect.topic is not None and effect.topic.before == [0, 0, 0, 100] and effect.topic.after == [
        100, 100, 100, 0]
    assert effect.topic.change == 50 and effect.topic.improved
    assert effect.overall.before_mean == pytest.approx(58.75) and effect.overall.after_mean == pytest.approx(82.5)
    effects = [effect, _effect(2, coach=7, topic="ID check"), _effect(3, coach=8, topic="Tone"),
               _effect(4, coach=8, topic="Tone", status="in_progress")]
    by_coach = {r.key: r for r in rollup(effects, key="coach", labels={"7": "Colin", "8": "Cleo"})}
    assert by_coach["7"].label == "Colin" and by_coach["7"].assignments == 2 and by_coach["7"].improved == 2
    assert by_coach["7"].share_improved == 1.0 and by_coach["7"].mean_change == 50
    # coach 8: one completed assignment without data (not measured), the in-progress one does not count
    assert by_coach["8"].assignments == 1 and by_coach["8"].measured == 0 and by_coach["8"].share_improved is None
    by_topic = {r.label: r for r in rollup(effects, key="topic", labels={})}
    assert set(by_topic) == {"ID check", "Tone"}
