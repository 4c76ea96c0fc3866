"""Calibration: several evaluators score one interaction blind; a lead may add gold answers; closing the
session computes agreement.

Results on close (`compute_results`, a pure function):
- per question: every evaluator's answer side by side, the modal answer, `agreement` = share of the
  evaluators who gave the modal answer (N/A counts as an answer; None with fewer than two answers), whether
  each matches the gold, and `like_gold` = how many of the answers are the gold answer (with gold answers);
- score spread: mean, min, max, range and sample standard deviation of the evaluators' scores;
- each evaluator's deviation: score − reference score (the gold evaluation when there is one, else the
  evaluators' mean) and the share of questions answered like the reference (gold, else the modal answer);
- Krippendorff's alpha among the evaluators (gold excluded), questions as units, N/A and hidden as missing
  (NaN): `nominal` over yes_no and choice questions, `ordinal` over scale questions, and `form_interval`
  over every scored question using the share of points earned (0..1). None when undefined (fewer than two
  evaluators, no pairable values, or everybody gave the same single value — perfect but uninformative).
"""

import statistics
from collections import Counter
from typing import Any, Literal

from sqlmodel import Session, col, select

from app.auth.models import User
from app.core import audit, stats
from app.core.db import serialized
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.evaluations import service as evaluations
from app.evaluations.models import CalibrationPublic, CalibrationSession, Evaluation, EvaluationState
from app.scorecards import service as scorecards
from app.scorecards.schema import ScorecardForm

Level = Literal["nominal", "ordinal", "interval"]
NA = "N/A"


def krippendorff_alpha(reliability_data: list[list[float]], level: Level) -> float | None:
    """Krippendorff's alpha for raters × units data (NaN = missing), rounded to 4 places for storage in the
    session results; None when it is undefined. The statistic itself is `app.core.stats.krippendorff_alpha`."""
    value = stats.krippendorff_alpha(reliability_data, level=level)
    return None if value is None else round(value, 4)


# ---------------------------------------------------------------- the pure computation

Rating = dict[str, Any]  # {"evaluator_id", "evaluation_id", "is_gold", "score", "answers": {qid: value|NA}, "fractions": {qid: float}}


def _modal(values: list[Any]) -> Any:
    counts = Counter(repr(v) for v in values)
    best = max(counts.values())
    return next(v for v in values if counts[repr(v)] == best)


def compute_results(form: ScorecardForm, ratings: list[Rating]) -> dict[str, Any]:
    """Agreement, spread, deviations and alpha for submitted ratings of one interaction (see module doc)."""
    raters = [r for r in ratings if not r["is_gold"]]
    gold = next((r for r in ratings if r["is_gold"]), None)
    scored = [q for _, q in form.questions() if q.scored]
    questions_out = []
    reference_answers: dict[str, Any] = {}
    for q in scored:
        given = [r["answers"].get(q.id) for r in raters]
        answered = [v for v in given if v is not None]
        modal = _modal(answered) if answered else None
        agreement = (sum(1 for v in answered if v == modal and type(v) is type(modal)) / len(answered)
                     if len(answered) > 1 else None)  # one evaluator's answer agrees with nobody
        gold_value = gold["answers"].get(q.id) if gold else None
        like_gold = ([v == gold_value and type(v) is type(gold_value) for v in answered]
                     if gold and gold_value is not None else [])
        reference_answers[q.id] = gold_value if gold else modal
        questions_out.append({
            "question_id": q.id, "text": q.text, "type": q.type,
            "answers": [{"evaluator_id": r["evaluator_id"], "value": r["answers"].get(q.id),
                         "matches_gold": (r["answers"].get(q.id) == gold_value) if gold else None} for r in raters],
            "gold": gold_value, "modal": modal,
            "agreement": None if agreement is None else round(agreement, 4),
            "like_gold": {"same": sum(like_gold), "of": len(like_gold)} if like_gold else None})
    scores = [float(r["score"]) for r in raters if r["score"] is not None]
    spread: dict[str, float | None] = {"mean": None, "min": None, "max": None, "range": None, "stdev": None}
    if scores:
        spread = {"mean": round(statistics.fmean(scores), 2), "min": min(scores), "max": max(scores),
                  "range": round(max(scores) - min(scores), 2),
                  "stdev": round(statistics.stdev(scores), 2) if len(scores) > 1 else None}
    reference_score = gold["score"] if gold and gold["score"] is not None else spread["mean"]
    deviations = []
    for r in raters:
        compared = [q.id for q in scored if reference_answers.get(q.id) is not None and r["answers"].get(q.id) is not None]
        same = sum(1 for qid in compared if r["answers"][qid] == reference_answers[qid])
        deviations.append({
            "evaluator_id": r["evaluator_id"], "score": r["score"],
            "score_deviation": (round(r["score"] - reference_score, 2)
                                if r["score"] is not None and reference_score is not None else None),
            "agreement_with_reference": round(same / len(compared), 4) if compared else None})
    return {
        "reference": "gold" if gold else "mean",
        "gold_evaluator_id": gold["evaluator_id"] if gold else None,
        "reference_score": reference_score,
        "raters": [{"evaluator_id": r["evaluator_id"], "evaluation_id": r["evaluation_id"], "score": r["score"]}
                   for r in raters],
        "questions": questions_out, "score_spread": spread, "deviations": deviations,
        "alpha": _alphas(form, raters),
    }


def _alphas(form: ScorecardForm, raters: list[Rating]) -> dict[str, float | None]:
    codes: dict[tuple[str, str], int] = {}

    def nominal_code(qid: str, value: Any) -> float:
        return float(codes.setdefault((qid, repr(value)), len(codes)))

    def column(qid: str, convert: Any) -> list[float]:
        out = []
        for r in raters:
            value = r["answers"].get(qid)
            out.append(float("nan") if value is None or value == NA else convert(qid, value))
        return out

    nominal_q = [q.id for _, q in form.questions() if q.type in ("yes_no", "choice")]
    ordinal_q = [q.id for _, q in form.questions() if q.type == "scale"]
    all_q = [q.id for _, q in form.questions() if q.scored]

    def matrix(qids: list[str], convert: Any) -> list[list[float]]:
        columns = [column(qid, convert) for qid in qids]
        return [[columns[u][i] for u in range(len(qids))] for i in range(len(raters))]

    fractions = [[r["fractions"].get(qid, float("nan")) for qid in all_q] for r in raters]
    return {
        "nominal": krippendorff_alpha(matrix(nominal_q, nominal_code), "nominal") if nominal_q else None,
        "ordinal": krippendorff_alpha(matrix(ordinal_q, lambda _q, v: float(v)), "ordinal") if ordinal_q else None,
        "form_interval": krippendorff_alpha(fractions, "interval") if all_q else None,
    }


# ---------------------------------------------------------------- sessions

def _require_lead_role(principal: Principal) -> None:
    if not principal.has(Role.ADMIN, Role.EVALUATOR):
        raise Forbidden("Only evaluators and admins run calibration sessions.")


def create(*, session: Session, principal: Principal, title: str, interaction_id: int, scorecard_id: int,
           evaluator_ids: list[int]) -> CalibrationSession:
    """A lead starts a calibration session on one interaction with two or more evaluators."""
    _require_lead_role(principal)
    interaction = evaluations.get_interaction(session=session, interaction_id=interaction_id)
    version = scorecards.version_for_evaluation(session=session, scorecard_id=scorecard_id,
                                                channel=interaction.channel)
    unique_ids = list(dict.fromkeys(evaluator_ids))
    for index, user_id in enumerate(unique_ids):
        user = session.get(User, user_id)
        if user is None or not ({Role.EVALUATOR, Role.ADMIN} & user.role_set):
            raise InvalidInput(f"user {user_id} is not an evaluator",
                               details=[{"loc": f"evaluator_ids[{index}]", "msg": "not an evaluator"}])
        if user_id == interaction.agent_id:
            raise InvalidInput("the interaction's own agent cannot calibrate on it",
                               details=[{"loc": f"evaluator_ids[{index}]", "msg": "handled this interaction"}])
    if len(unique_ids) < 2:
        raise InvalidInput("a calibration needs at least two evaluators",
                           details=[{"loc": "evaluator_ids", "msg": "at least two evaluators required"}])
    assert version.id is not None and interaction.id is not None
    calibration = CalibrationSession(title=title, interaction_id=interaction.id, scorecard_version_id=version.id,
                                     lead_id=principal.user_id, evaluator_ids=unique_ids)
    session.add(calibration)
    session.flush()
    audit.record(session=session, actor=principal, action="calibration.create", record_type="calibration_session",
                 record_id=calibration.id, after={"interaction_id": interaction.id, "evaluator_ids": unique_ids})
    session.commit()
    return calibration


def get(*, session: Session, principal: Principal, calibration_id: int) -> CalibrationSession:
    """Participants, the lead and admins see a session; others get NotFound."""
    calibration = session.get(CalibrationSession, calibration_id)
    if calibration is None or not (principal.has(Role.ADMIN) or principal.user_id == calibration.lead_id
                                   or principal.user_id in calibration.evaluator_ids):
        raise NotFound(f"calibration session {calibration_id} not found")
    return calibration


def list_sessions(*, session: Session, principal: Principal) -> list[CalibrationSession]:
    rows = session.exec(select(CalibrationSession).order_by(col(CalibrationSession.id).desc())).all()
    return [c for c in rows if principal.has(Role.ADMIN) or principal.user_id == c.lead_id
            or principal.user_id in c.evaluator_ids]


def open_invitations(*, session: Session, evaluator_id: int) -> list[tuple[CalibrationSession, list[Evaluation]]]:
    """Open sessions this evaluator is invited to, newest first, each with the evaluator's own evaluations in it:
    two statements however long the history of closed sessions (their results are not read)."""
    invited = [c for c in session.exec(select(CalibrationSession).where(CalibrationSession.status == "open")
                                       .order_by(col(CalibrationSession.id).desc())).all()
               if evaluator_id in c.evaluator_ids]
    if not invited:
        return []
    mine: dict[int, list[Evaluation]] = {c.id: [] for c in invited if c.id is not None}
    for evaluation in session.exec(select(Evaluation).where(
            col(Evaluation.calibration_session_id).in_(list(mine)), Evaluation.evaluator_id == evaluator_id)
            .order_by(col(Evaluation.id))).all():
        assert evaluation.calibration_session_id is not None
        mine[evaluation.calibration_session_id].append(evaluation)
    return [(c, mine[c.id]) for c in invited if c.id is not None]


def session_evaluations(*, session: Session, calibration_id: int) -> list[Evaluation]:
    return list(session.exec(select(Evaluation).where(Evaluation.calibration_session_id == calibration_id)
                             .order_by(col(Evaluation.id))).all())


def start_evaluation(*, session: Session, principal: Principal, calibration_id: int) -> Evaluation:
    """The caller's evaluation in the session (created on first call). The lead's is the gold one."""
    calibration = get(session=session, principal=principal, calibration_id=calibration_id)
    if calibration.status != "open":
        raise Conflict("the calibration session is closed")
    is_participant = principal.user_id in calibration.evaluator_ids
    is_lead = principal.user_id == calibration.lead_id
    if not (is_participant or is_lead):
        raise Forbidden("Only the session's evaluators and its lead score in it.")
    serialized(session, "evaluation", principal.user_id, calibration.interaction_id)  # see evaluations.create
    for evaluation in session_evaluations(session=session, calibration_id=calibration_id):
        if evaluation.evaluator_id == principal.user_id:
            return evaluation
    version = scorecards.get_version(session=session, version_id=calibration.scorecard_version_id)
    return evaluations.create(session=session, principal=principal, interaction_id=calibration.interaction_id,
                              scorecard_id=version.scorecard_id, calibration_session_id=calibration_id,
                              is_gold=is_lead and not is_participant, version=version)


def _rating(*, session: Session, evaluation: Evaluation) -> Rating:
    assert evaluation.id is not None
    breakdown = evaluation.breakdown or {}
    fractions: dict[str, float] = {}
    for q in breakdown.get("questions", []):
        if q.get("visible") and not q.get("na") and q.get("possible"):
            fractions[q["question_id"]] = float(q["earned"]) / float(q["possible"])
    answers = {a.question_id: (NA if a.na else a.value)
               for a in evaluations.answers_of(session=session, evaluation_id=evaluation.id)}
    hidden = {q["question_id"] for q in breakdown.get("questions", []) if not q.get("visible")}
    return {"evaluator_id": evaluation.evaluator_id, "evaluation_id": evaluation.id, "is_gold": evaluation.is_gold,
            "score": evaluation.score, "fractions": fractions,
            "answers": {k: v for k, v in answers.items() if k not in hidden and v is not None}}


def close(*, session: Session, principal: Principal, calibration_id: int) -> CalibrationSession:
    """Close the session (lead or admin) and store its results; answers become visible to evaluators."""
    calibration = get(session=session, principal=principal, calibration_id=calibration_id)
    if principal.user_id != calibration.lead_id and not principal.has(Role.ADMIN):
        raise Forbidden("Only the session's lead or an admin closes it.")
    if calibration.status != "open":
        raise Conflict("the calibration session is already closed")
    submitted = [e for e in session_evaluations(session=session, calibration_id=calibration_id)
                 if e.state != EvaluationState.DRAFT]
    form = scorecards.form_of(scorecards.get_version(session=session, version_id=calibration.scorecard_version_id))
    results = compute_results(form, [_rating(session=session, evaluation=e) for e in submitted])
    calibration.status, calibration.closed_at, calibration.results = "closed", utcnow(), results
    session.add(calibration)
    audit.record(session=session, actor=principal, action="calibration.close", record_type="calibration_session",
                 record_id=calibration_id, after={"submitted": len(submitted), "alpha": results["alpha"]})
    session.commit()
    return calibration


def closed_sessions(*, session: Session, scorecard_id: int | None = None) -> list[CalibrationSession]:
    """Closed calibration sessions, oldest first, optionally of one scorecard (any of its versions)."""
    rows = list(session.exec(select(CalibrationSession).where(CalibrationSession.status == "closed")
                             .order_by(col(CalibrationSession.closed_at), col(CalibrationSession.id))).all())
    if scorecard_id is not None:
        version_ids = {v.id for v in scorecards.versions(session=session, scorecard_id=scorecard_id)}
        rows = [r for r in rows if r.scorecard_version_id in version_ids]
    return rows


def question_ratings(rows: list[CalibrationSession], question_id: str) -> tuple[Level, list[list[float]]]:
    """One question's reliability data over sessions: (level, raters × units matrix). Each session (one
    interaction) is a unit, each evaluator a rater, gold excluded, N/A and unanswered missing (NaN). Nominal
    for yes_no and choice (answers coded as categories), ordinal for scales."""
    units: list[dict[int, Any]] = []
    kind = None
    for row in rows:
        question = next((q for q in (row.results or {}).get("questions", []) if q["question_id"] == question_id), None)
        if question is None:
            continue
        kind = question["type"]
        units.append({a["evaluator_id"]: a["value"] for a in question["answers"]
                      if a["value"] is not None and a["value"] != NA})
    raters = sorted({rater for unit in units for rater in unit})
    codes: dict[str, int] = {}

    def code(value: Any) -> float:
        if kind == "scale":
            return float(value)
        return float(codes.setdefault(repr(value), len(codes)))

    data = [[code(unit[r]) if r in unit else float("nan") for unit in units] for r in raters]
    return ("ordinal" if kind == "scale" else "nominal"), data


def question_alpha(*, session: Session, question_id: str, scorecard_id: int | None = None) -> dict[str, Any]:
    """Krippendorff's alpha of one question across closed calibration sessions (see `question_ratings`).
    Needs several sessions to mean anything (`units` says how many)."""
    level, data = question_ratings(closed_sessions(session=session, scorecard_id=scorecard_id), question_id)
    units = len(data[0]) if data else 0
    return {"question_id": question_id, "units": units, "raters": len(data), "level": level,
            "alpha": krippendorff_alpha(data, level) if units else None}


def evaluator_trend(*, session: Session, evaluator_id: int) -> list[dict[str, Any]]:
    """An evaluator's deviation and agreement with the reference over closed sessions, oldest first."""
    rows = session.exec(select(CalibrationSession).where(CalibrationSession.status == "closed")
                        .order_by(col(CalibrationSession.closed_at), col(CalibrationSession.id))).all()
    trend = []
    for row in rows:
        deviation = next((d for d in (row.results or {}).get("deviations", []) if d["evaluator_id"] == evaluator_id),
                         None)
        if deviation is not None:
            trend.append({"calibration_id": row.id, "title": row.title, "closed_at": row.closed_at,
                          "score_deviation": deviation["score_deviation"],
                          "agreement_with_reference": deviation["agreement_with_reference"]})
    return trend


def public(*, session: Session, principal: Principal, calibration: CalibrationSession) -> CalibrationPublic:
    """The session as the caller may see it: while open, only the caller's own evaluation (blind)."""
    assert calibration.id is not None
    rows = session_evaluations(session=session, calibration_id=calibration.id)
    mine = next((e.id for e in rows if e.evaluator_id == principal.user_id), None)
    visible = [e for e in rows if evaluations.can_see(session=session, principal=principal, evaluation=e)]
    return CalibrationPublic(
        id=calibration.id, title=calibration.title, interaction_id=calibration.interaction_id,
        scorecard_version_id=calibration.scorecard_version_id, lead_id=calibration.lead_id,
        evaluator_ids=calibration.evaluator_ids, status=calibration.status, created_at=calibration.created_at,
        closed_at=calibration.closed_at, my_evaluation_id=mine,
        submitted_count=sum(1 for e in rows if e.state != EvaluationState.DRAFT),
        evaluations=[evaluations.public(session=session, evaluation=e) for e in visible],
        results=calibration.results if calibration.status == "closed" else None)
