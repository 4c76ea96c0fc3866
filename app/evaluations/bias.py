"""Evaluator bias: does one evaluator score systematically higher or lower than the reference?

Two references, each on the same interactions (paired data):
- **gold**: the lead's gold answers of closed calibration sessions. Pairs are (evaluator's score, gold score)
  for the total score, and (evaluator's answer, gold answer) for every scale question (the numeric ones).
- **peers**: the other evaluators on the same interaction — evaluations of one interaction with one scorecard
  by two or more evaluators (double scoring outside calibration, and the raters of closed calibration
  sessions, gold excluded). The reference of a pair is the mean of the others' scores.

Method: a paired comparison. For each evaluator and reference the differences (evaluator − reference) get a
mean (the offset), its Student-t 95 % interval and a one-sample t-test against 0 (`stats.paired_bias`). An
evaluator is flagged only when p < 0.05 with at least `MIN_PAIRS` pairs; with fewer the answer is "not enough
pairs to say". All differences equal (sd 0) flags exactly when that difference is not 0.

Why not a mixed model (score ~ evaluator + (1 | interaction))? It would pool every evaluator into one fit
and estimate each one's offset with shrinkage, which is better with many crossed ratings; but calibration
data are few sessions of two to four evaluators, where the random-effect variance is poorly estimated and the
result is hard to explain to an evaluator. Differencing against the reference on the same interaction removes
the interaction's own difficulty just as well, needs no extra dependency, and gives a number an evaluator can
check by hand. Tests are per evaluator and not corrected for multiplicity: with many evaluators one may be
flagged by chance at 5 %; the interval shows how far from 0 the offset is.
"""

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select

from app.core import stats
from app.core.security import Principal, Role
from app.evaluations.models import CalibrationSession, Evaluation, EvaluationState

MIN_PAIRS = 5  # a t-test on 2-4 pairs rests on one or two differences; 5 is the smallest we act on
NOT_ENOUGH_PAIRS = "not enough pairs to say"
TOTAL = "total score"
Reference = Literal["gold", "peers"]
Pairs = list[tuple[float, float]]


@dataclass(frozen=True)
class EvaluatorBias:
    evaluator_id: int
    reference: Reference
    measure: str  # TOTAL or a scale question's id
    measure_text: str
    bias: stats.BiasEstimate

    @property
    def enough(self) -> bool:
        return self.bias.n_pairs >= MIN_PAIRS

    @property
    def flagged(self) -> bool:
        return self.enough and self.bias.significant

    @property
    def verdict(self) -> str:
        if not self.enough:
            return NOT_ENOUGH_PAIRS
        if not self.flagged:
            return "no clear offset"
        assert self.bias.offset is not None
        return f"scores {'higher' if self.bias.offset > 0 else 'lower'} than {'gold' if self.reference == 'gold' else 'peers'}"


def _closed_sessions(session: Session) -> list[CalibrationSession]:
    return list(session.exec(select(CalibrationSession).where(CalibrationSession.status == "closed")
                             .order_by(col(CalibrationSession.closed_at), col(CalibrationSession.id))).all())


def _number(value: Any) -> float | None:
    """Scale answers only: booleans and choice strings have no numeric distance."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def gold_pairs(*, session: Session) -> dict[tuple[int, str], Pairs]:
    """(evaluator id, measure) → pairs against the gold answers, from the stored results of closed calibration
    sessions that had a gold evaluation; measure is TOTAL or a scale question's id."""
    pairs: dict[tuple[int, str], Pairs] = defaultdict(list)
    for calibration in _closed_sessions(session):
        results = calibration.results or {}
        if results.get("reference") != "gold":
            continue
        gold_score = results.get("reference_score")
        for rater in results.get("raters", []):
            if rater.get("score") is not None and gold_score is not None:
                pairs[(rater["evaluator_id"], TOTAL)].append((float(rater["score"]), float(gold_score)))
        for question in results.get("questions", []):
            gold_value = _number(question.get("gold"))
            if question.get("type") != "scale" or gold_value is None:
                continue
            for answer in question.get("answers", []):
                value = _number(answer.get("value"))
                if value is not None:
                    pairs[(answer["evaluator_id"], question["question_id"])].append((value, gold_value))
    return pairs


def _peer_groups(session: Session) -> Iterable[dict[int, float]]:
    """Evaluator → score for each interaction scored by several evaluators with one scorecard; calibration
    evaluations count only once their session is closed (blind until then) and the gold one never."""
    closed = {c.id for c in _closed_sessions(session)}
    rows = session.exec(select(Evaluation).options(defer(cast(QueryableAttribute[Any], Evaluation.breakdown)))  # large JSON, not needed
                        .where(col(Evaluation.score).is_not(None), Evaluation.state != EvaluationState.DRAFT,
                               col(Evaluation.is_gold).is_(False))
                        .order_by(col(Evaluation.id))).all()
    groups: dict[tuple[Any, ...], dict[int, float]] = defaultdict(dict)
    for row in rows:
        if row.calibration_session_id is not None and row.calibration_session_id not in closed:
            continue
        assert row.score is not None
        # the latest evaluation of an evaluator counts
        groups[(row.interaction_id, row.scorecard_id, row.calibration_session_id)][row.evaluator_id] = float(row.score)
    return (g for g in groups.values() if len(g) >= 2)


def peer_pairs(*, session: Session) -> dict[int, Pairs]:
    """Evaluator id → (their score, mean of the other evaluators' scores) per double-scored interaction."""
    pairs: dict[int, Pairs] = defaultdict(list)
    for group in _peer_groups(session):
        for evaluator_id, score in group.items():
            others = [s for e, s in group.items() if e != evaluator_id]
            pairs[evaluator_id].append((score, statistics.fmean(others)))
    return pairs


def _question_texts(session: Session) -> dict[str, str]:
    return {q["question_id"]: q.get("text") or q["question_id"]
            for c in _closed_sessions(session) for q in (c.results or {}).get("questions", [])}


def evaluator_bias(*, session: Session, principal: Principal) -> list[EvaluatorBias]:
    """Every evaluator's offset against gold (total and scale questions) and against peers (total), sorted by
    evaluator, reference, measure. Admins see every evaluator; anybody else only their own rows."""
    texts = _question_texts(session)
    rows = [EvaluatorBias(evaluator_id, "gold", measure, TOTAL if measure == TOTAL else texts.get(measure, measure),
                          stats.paired_bias(pairs, min_pairs=MIN_PAIRS))
            for (evaluator_id, measure), pairs in gold_pairs(session=session).items()]
    rows += [EvaluatorBias(evaluator_id, "peers", TOTAL, TOTAL, stats.paired_bias(pairs, min_pairs=MIN_PAIRS))
             for evaluator_id, pairs in peer_pairs(session=session).items()]
    if not principal.has(Role.ADMIN):
        rows = [r for r in rows if r.evaluator_id == principal.user_id]
    return sorted(rows, key=lambda r: (r.evaluator_id, r.reference != "gold", r.measure != TOTAL, r.measure))


CSV_HEADERS = ["evaluator_id", "evaluator", "reference", "measure", "pairs", "mean_offset", "ci95_low", "ci95_high",
               "p_value", "flagged", "verdict"]


def csv_rows(rows: list[EvaluatorBias], names: dict[int, str]) -> Iterable[list[object]]:
    for r in rows:
        iv = r.bias.interval
        yield [r.evaluator_id, names.get(r.evaluator_id, ""), r.reference, r.measure_text, r.bias.n_pairs,
               _round(r.bias.offset), _round(iv.low), _round(iv.high),
               None if r.bias.p_value is None else f"{r.bias.p_value:.4g}", "yes" if r.flagged else "no", r.verdict]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
