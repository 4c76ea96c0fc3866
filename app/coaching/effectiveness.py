"""Did the coaching work? The agent's scores before the assignment against those after its completion.

Pure functions over score observations (nothing is stored: the figures follow the evaluations as they are
re-scored or disputed). The service feeds them observations read from the evaluations feature.
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.core.timeutil import as_utc

ALPHA = 0.05


@dataclass(frozen=True)
class ScoreObservation:
    """One score from a submitted evaluation: the whole form's (question_id None, 0-100) or one question's
    (0-100, e.g. 100 for a pass and 0 for a fail)."""

    at: datetime
    score: float
    question_id: str | None = None
    evaluation_id: int | None = None


@dataclass(frozen=True)
class EffectivenessWindow:
    """How much history either side counts: the nearest `evaluations` evaluations, and/or those within
    `days` days of the coaching. `min_each_side` evaluations are needed on each side to say anything."""

    evaluations: int | None = 10
    days: int | None = None
    min_each_side: int = 3


class Verdict(StrEnum):
    IMPROVED = "improved"
    DECLINED = "declined"
    NO_CLEAR_CHANGE = "no clear change"
    NOT_ENOUGH_DATA = "not enough evaluations to say"
    NOT_COMPLETED = "coaching not completed yet"


@dataclass(frozen=True)
class Comparison:
    measure: str  # "topic" or "overall"
    before: list[float]
    after: list[float]
    verdict: Verdict
    before_mean: float | None = None
    after_mean: float | None = None
    change: float | None = None
    p_value: float | None = None
    test: str | None = None
    statement: str = ""

    @property
    def before_n(self) -> int:
        return len(self.before)

    @property
    def after_n(self) -> int:
        return len(self.after)

    @property
    def measured(self) -> bool:
        """Enough evaluations on both sides to compare."""
        return self.change is not None

    @property
    def improved(self) -> bool:
        return self.change is not None and self.change > 0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _variance(values: Sequence[float]) -> float:
    """Sample variance (n - 1); 0 for a single value."""
    if len(values) < 2:
        return 0.0
    mean = _mean(values)
    return sum((x - mean) ** 2 for x in values) / (len(values) - 1)


def welch_p_value(before: Sequence[float], after: Sequence[float]) -> float:
    """Two-sided Welch t-test. When neither side varies the test is undefined: equal means give 1.0 and
    different means 0.0 (every evaluation on one side beats every one on the other)."""
    before = [round(x, 6) for x in before]  # scores are rounded already; this removes float noise
    after = [round(x, 6) for x in after]
    if len(set(before)) <= 1 and len(set(after)) <= 1:
        return 1.0 if _mean(before) == _mean(after) else 0.0
    # Closed form (Welch–Satterthwaite degrees of freedom, Student's t tail from scipy.special): the same
    # p-value as scipy.stats.ttest_ind(equal_var=False) at a thousandth of its cost, which home pages pay
    # once per coaching assignment.
    from scipy.special import stdtr

    if len(before) < 2 or len(after) < 2:
        return 1.0  # no variance estimate on one side (scipy gives NaN there)
    var_b, var_a = _variance(before), _variance(after)
    se_b, se_a = var_b / len(before), var_a / len(after)
    t = (_mean(after) - _mean(before)) / math.sqrt(se_a + se_b)
    df = (se_a + se_b) ** 2 / (se_a ** 2 / (len(after) - 1) + se_b ** 2 / (len(before) - 1))
    p_value = float(2.0 * stdtr(df, -abs(t)))
    return 1.0 if math.isnan(p_value) else p_value


def compare(before: Sequence[float], after: Sequence[float], *, measure: str, min_each_side: int = 3,
            completed: bool = True, alpha: float = ALPHA) -> Comparison:
    """Compare two samples of scores; says "not enough evaluations" below `min_each_side` on either side."""
    before, after = list(before), list(after)
    if not completed:
        return Comparison(measure, before, after, Verdict.NOT_COMPLETED,
                          before_mean=_mean(before) if before else None,
                          statement=f"Coaching is not completed yet ({len(before)} evaluations before).")
    if len(before) < min_each_side or len(after) < min_each_side:
        return Comparison(measure, before, after, Verdict.NOT_ENOUGH_DATA,
                          before_mean=_mean(before) if before else None,
                          after_mean=_mean(after) if after else None,
                          statement=f"Not enough evaluations to say: {len(before)} before and {len(after)} "
                                    f"after; {min_each_side} are needed on each side.")
    before_mean, after_mean = _mean(before), _mean(after)
    change = after_mean - before_mean
    p_value = welch_p_value(before, after)
    if p_value < alpha:
        verdict = Verdict.IMPROVED if change > 0 else Verdict.DECLINED
        meaning = "a real change" if change else "no change"
    else:
        verdict = Verdict.NO_CLEAR_CHANGE
        meaning = "could be chance"
    statement = (f"{before_mean:.1f} → {after_mean:.1f} ({change:+.1f} points; {len(before)} evaluations "
                 f"before, {len(after)} after). Welch t-test p = {p_value:.3f}: {meaning}.")
    return Comparison(measure, before, after, verdict, before_mean=before_mean, after_mean=after_mean,
                      change=change, p_value=p_value, test="welch_t", statement=statement)


def _per_evaluation(observations: Sequence[ScoreObservation]) -> list[tuple[datetime, float]]:
    """One value per evaluation (the mean of its observations), keyed by evaluation id or else by time."""
    groups: dict[object, list[ScoreObservation]] = defaultdict(list)
    for obs in observations:
        groups[obs.evaluation_id if obs.evaluation_id is not None else as_utc(obs.at)].append(obs)
    return sorted((min(as_utc(o.at) for o in group), _mean([o.score for o in group])) for group in groups.values())


def split_before_after(observations: Sequence[ScoreObservation], *, question_ids: Sequence[str] | None,
                       started: datetime, completed: datetime | None,
                       window: EffectivenessWindow) -> tuple[list[float], list[float]]:
    """Scores before `started` and after `completed` (nearest first, limited by the window); what falls
    during the coaching counts on neither side. `question_ids` None selects the overall scores."""
    wanted = set(question_ids) if question_ids is not None else None
    chosen = [o for o in observations
              if (o.question_id is None if wanted is None else o.question_id in wanted)]
    points = _per_evaluation(chosen)
    started = as_utc(started)
    before = [p for p in points if p[0] < started][::-1]
    after = [p for p in points if completed is not None and p[0] > as_utc(completed)]
    if window.days is not None:
        before = [p for p in before if p[0] >= started - timedelta(days=window.days)]
        if completed is not None:
            after = [p for p in after if p[0] <= as_utc(completed) + timedelta(days=window.days)]
    if window.evaluations is not None:
        before, after = before[:window.evaluations], after[:window.evaluations]
    return [score for _, score in before[::-1]], [score for _, score in after]


@dataclass(frozen=True)
class AssignmentEffect:
    assignment_id: int
    agent_id: int
    coach_id: int | None
    team_id: int | None
    topic_title: str
    topic_key: str
    status: str
    overall: Comparison
    topic: Comparison | None

    @property
    def primary(self) -> Comparison:
        """The measure that says whether the coaching worked: its questions when it has any."""
        return self.topic if self.topic is not None else self.overall


def assignment_effect(*, assignment_id: int, agent_id: int, coach_id: int | None, team_id: int | None,
                      topic_title: str, topic_key: str, status: str, question_ids: Sequence[str],
                      created_at: datetime, completed_at: datetime | None,
                      observations: Sequence[ScoreObservation], window: EffectivenessWindow) -> AssignmentEffect:
    completed = completed_at is not None

    def measure(ids: Sequence[str] | None, name: str) -> Comparison:
        before, after = split_before_after(observations, question_ids=ids, started=created_at,
                                           completed=completed_at, window=window)
        return compare(before, after, measure=name, min_each_side=window.min_each_side, completed=completed)

    topic = measure(list(question_ids), "topic") if question_ids else None
    return AssignmentEffect(assignment_id, agent_id, coach_id, team_id, topic_title, topic_key, status,
                            overall=measure(None, "overall"), topic=topic)


@dataclass
class Rollup:
    """Assignments grouped by coach, topic or team: how many were followed by an improvement."""

    key: str
    label: str
    assignments: int = 0
    measured: int = 0
    improved: int = 0
    significantly_improved: int = 0
    changes: list[float] = field(default_factory=list)

    @property
    def share_improved(self) -> float | None:
        return self.improved / self.measured if self.measured else None

    @property
    def mean_change(self) -> float | None:
        return _mean(self.changes) if self.changes else None


def rollup(effects: Sequence[AssignmentEffect], *, key: str, labels: dict[str, str]) -> list[Rollup]:
    """Group by "coach", "topic" or "team". Only completed (or verified) assignments count."""
    groups: dict[str, Rollup] = {}
    for effect in effects:
        if effect.status not in ("completed", "verified"):
            continue
        group_key = {"coach": str(effect.coach_id), "team": str(effect.team_id), "topic": effect.topic_key}[key]
        label = effect.topic_title if key == "topic" else labels.get(group_key, "—")
        row = groups.setdefault(group_key, Rollup(key=group_key, label=label))
        row.assignments += 1
        primary = effect.primary
        if primary.measured and primary.change is not None:
            row.measured += 1
            row.changes.append(primary.change)
            row.improved += int(primary.improved)
            row.significantly_improved += int(primary.verdict == Verdict.IMPROVED)
    return sorted(groups.values(), key=lambda r: r.label.lower())
