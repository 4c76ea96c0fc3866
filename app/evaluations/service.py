"""The evaluation workflow: create → save draft answers → submit (scored on the server) → the agent
acknowledges or disputes → an evaluator/admin resolves (upheld, or answers changed and re-scored).

Who may do what:
- evaluators and admins create and score, but never on an interaction they handled themselves;
- agents see only their own submitted evaluations, coaches their team's, executives all submitted ones,
  evaluators/admins everything including drafts (anything not visible is reported as 404, never 403);
- calibration evaluations are blind until their session closes and never shown to agents or coaches.
Every score change, dispute and resolution writes an audit event with before/after.

What other features read of scored evaluations lives in `app/evaluations/readings.py`.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.auth import service as auth_service
from app.auth.models import User
from app.core import audit
from app.core.db import serialized
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.hooks import PUBLISH_EVENT, Event, EventType
from app.core.listing import Page, Sort, paginate
from app.core.models import AuditEvent
from app.core.security import Principal, Role
from app.core.timeutil import as_utc, utcnow
from app.evaluations import suggestions
from app.evaluations.models import (
    AnswerIn,
    AnswerPublic,
    CalibrationSession,
    DisputeItem,
    DisputePublic,
    Evaluation,
    EvaluationAnswer,
    EvaluationAssignment,
    EvaluationDetail,
    EvaluationDispute,
    EvaluationPublic,
    EvaluationState,
)
from app.interactions import service as interactions_service
from app.interactions.models import Interaction, InteractionLeg, Message
from app.scorecards import service as scorecards
from app.scorecards.models import ScoreAnswer, ScorecardVersion
from app.scorecards.schema import Question, ScorecardForm
from app.scorecards.scoring import AnswerError, AnswerInput, ScoreResult, check_answer

SCORED_STATES = (EvaluationState.SUBMITTED, EvaluationState.ACKNOWLEDGED, EvaluationState.DISPUTED,
                 EvaluationState.RESOLVED)
EVALUATOR_ROLES = (Role.ADMIN, Role.EVALUATOR)


# ---------------------------------------------------------------- reading and scope

def get_interaction(*, session: Session, interaction_id: int, principal: Principal | None = None) -> Interaction:
    """The interaction, through the interactions feature's one visibility rule when a principal is given
    (NotFound when it does not exist or is out of scope); without one, for callers that checked already."""
    return interactions_service.get_interaction(session=session, interaction_id=interaction_id, principal=principal)


def handled_by(*, session: Session, interaction: Interaction, user_id: int) -> bool:
    """Whether the user was the interaction's agent or an agent on any of its legs (transfers)."""
    if interaction.agent_id == user_id:
        return True
    leg = session.exec(select(InteractionLeg.id).where(InteractionLeg.interaction_id == interaction.id,
                                                       InteractionLeg.agent_id == user_id)).first()
    return leg is not None


def _calibration_visible(*, evaluation: Evaluation, principal: Principal, closed: bool) -> bool:
    if evaluation.evaluator_id == principal.user_id:
        return True
    return closed and principal.has(Role.ADMIN, Role.EVALUATOR)


def can_see(*, session: Session, principal: Principal, evaluation: Evaluation) -> bool:
    """The scope rule for one evaluation (see the module docstring)."""
    if evaluation.calibration_session_id is not None:
        calibration = session.get(CalibrationSession, evaluation.calibration_session_id)
        closed = calibration is not None and calibration.status == "closed"
        return _calibration_visible(evaluation=evaluation, principal=principal, closed=closed)
    if principal.has(Role.ADMIN, Role.EVALUATOR):
        return True
    if evaluation.state == EvaluationState.DRAFT:  # drafts are the evaluator's work in progress
        return False
    return auth_service.can_view_agent(session=session, principal=principal, agent_id=evaluation.agent_id)


def get_visible(*, session: Session, principal: Principal, evaluation_id: int) -> Evaluation:
    """The evaluation if `principal` may see it; NotFound otherwise (also when it does not exist)."""
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None or not can_see(session=session, principal=principal, evaluation=evaluation):
        raise NotFound(f"evaluation {evaluation_id} not found")
    return evaluation


def _visible_query(*, session: Session, principal: Principal, agent_id: int | None = None,
                   state: str | None = None, evaluator_id: int | None = None, interaction_id: int | None = None,
                   channel: str | None = None, to_resolve: bool = False) -> SelectOfScalar[Evaluation]:
    """`to_resolve`: the disputes this principal may resolve — disputed, scored by someone else (an evaluation's
    own evaluator resolves its dispute only where the form allows it, see may_resolve; those are left out)."""
    query = select(Evaluation).where(col(Evaluation.calibration_session_id).is_(None))
    if to_resolve:
        query = query.where(Evaluation.state == EvaluationState.DISPUTED,
                            col(Evaluation.evaluator_id) != principal.user_id)
    visible = auth_service.visible_agent_ids(session=session, principal=principal)
    if visible is not None:
        query = query.where(col(Evaluation.agent_id).in_(visible))
    if not principal.has(*EVALUATOR_ROLES):
        query = query.where(Evaluation.state != EvaluationState.DRAFT)
    if agent_id is not None:
        query = query.where(Evaluation.agent_id == agent_id)
    if state is not None:
        query = query.where(Evaluation.state == state)
    if evaluator_id is not None:
        query = query.where(Evaluation.evaluator_id == evaluator_id)
    if interaction_id is not None:
        query = query.where(Evaluation.interaction_id == interaction_id)
    if channel is not None:
        query = query.where(Evaluation.channel == channel)
    return query


def list_visible(*, session: Session, principal: Principal, agent_id: int | None = None,
                 state: str | None = None, evaluator_id: int | None = None, interaction_id: int | None = None,
                 page: int = 1, per_page: int = 200) -> Page[Evaluation]:
    """One page of the evaluations the principal may see, newest first (calibration evaluations excluded)."""
    query = _visible_query(session=session, principal=principal, agent_id=agent_id, state=state,
                           evaluator_id=evaluator_id, interaction_id=interaction_id)
    return paginate(query.order_by(col(Evaluation.id).desc()), page=page, per_page=per_page, session=session)


LIST_SORTS: dict[str, Any] = {"id": Evaluation.id, "submitted": Evaluation.submitted_at, "score": Evaluation.score,
                              "state": Evaluation.state, "channel": Evaluation.channel}


LIST_COLUMNS: tuple[Any, ...] = (Evaluation.interaction_id, Evaluation.channel, Evaluation.agent_id,
                                 Evaluation.evaluator_id, Evaluation.state, Evaluation.score,
                                 Evaluation.critical_failed, Evaluation.submitted_at)


def count_to_resolve(*, session: Session, principal: Principal) -> int:
    """How many disputes wait for this principal (the home panel; the list's `to_resolve` filter shows them)."""
    return int(session.exec(select(sa.func.count()).select_from(
        _visible_query(session=session, principal=principal, to_resolve=True).subquery())).one())


def page_visible(*, session: Session, principal: Principal, sort: Sort[Any], page: int = 1, per_page: int = 50,
                 agent_id: int | None = None, state: str | None = None,
                 channel: str | None = None, to_resolve: bool = False) -> Page[Evaluation]:
    """One page of the evaluations the principal may see (the list page and its export), filtered and sorted by
    a column of LIST_SORTS (rows without a value last, then newest first). Only the columns the list shows are
    loaded (reading another one loads it then): decoding each row's JSON breakdown was 40 % of the page."""
    query = _visible_query(session=session, principal=principal, agent_id=agent_id, state=state, channel=channel,
                           to_resolve=to_resolve)
    query = query.options(load_only(*LIST_COLUMNS))
    column = col(sort.column)
    return paginate(query.order_by(column.is_(None), column.desc() if sort.descending else column.asc(),
                                   col(Evaluation.id).desc()), page=page, per_page=per_page, session=session)


def answers_of(*, session: Session, evaluation_id: int) -> list[EvaluationAnswer]:
    return list(session.exec(select(EvaluationAnswer).where(EvaluationAnswer.evaluation_id == evaluation_id)
                             .order_by(col(EvaluationAnswer.id))).all())


class AnswerScore(NamedTuple):
    evaluation_id: int
    question_id: str
    na: bool
    earned: float | None
    possible: float | None
    critical_failed: bool


def answer_scores_of(*, session: Session, evaluation_ids: Sequence[int]) -> dict[int, list[AnswerScore]]:
    """What each answer of several evaluations scored, in one query per 500 evaluations, selecting only the
    scoring columns (no answer objects, comments or evidence), per evaluation id (every id present)."""
    found: dict[int, list[AnswerScore]] = {evaluation_id: [] for evaluation_id in evaluation_ids}
    table = EvaluationAnswer.__table__  # type: ignore[attr-defined]
    columns = [table.c.evaluation_id, table.c.question_id, table.c.na, table.c.earned, table.c.possible,
               table.c.critical_failed]
    ids = list(found)
    for chunk in range(0, len(ids), 500):
        rows = session.execute(sa.select(*columns).where(table.c.evaluation_id.in_(ids[chunk:chunk + 500]))
                               .order_by(table.c.id)).all()
        for row in rows:
            found[row[0]].append(AnswerScore(*row))
    return found


def disputes_of(*, session: Session, evaluation_id: int) -> list[EvaluationDispute]:
    return list(session.exec(select(EvaluationDispute).where(EvaluationDispute.evaluation_id == evaluation_id)
                             .order_by(col(EvaluationDispute.id))).all())


def version_of(*, session: Session, evaluation: Evaluation) -> ScorecardVersion:
    return scorecards.get_version(session=session, version_id=evaluation.scorecard_version_id)


def form_of(*, session: Session, evaluation: Evaluation) -> ScorecardForm:
    return scorecards.form_of(version_of(session=session, evaluation=evaluation))


def history(*, session: Session, evaluation_id: int) -> list[AuditEvent]:
    """Every audit event of the evaluation, oldest first: the versions of its score with who and why."""
    return list(session.exec(select(AuditEvent).where(AuditEvent.record_type == "evaluation",
                                                      AuditEvent.record_id == str(evaluation_id))
                             .order_by(col(AuditEvent.id))).all())


# ---------------------------------------------------------------- creating and answering

def _require_evaluator(principal: Principal) -> None:
    if not principal.has(*EVALUATOR_ROLES):
        raise Forbidden("Only evaluators and admins score interactions.")


class AlreadyEvaluated(Conflict):
    """The evaluator already scored this interaction; `evaluation_id` is the earlier evaluation."""

    code = "already_evaluated"

    def __init__(self, evaluation_id: int) -> None:
        super().__init__(f"You already evaluated this interaction (evaluation #{evaluation_id}). Open it, or "
                         "start a second evaluation on purpose.",
                         details=[{"loc": "interaction_id", "msg": "already evaluated by you",
                                   "evaluation_id": evaluation_id}])
        self.evaluation_id = evaluation_id


def own_evaluation_of(*, session: Session, evaluator_id: int, interaction_id: int) -> Evaluation | None:
    """The evaluator's latest non-calibration evaluation of the interaction, if any."""
    return session.exec(select(Evaluation).where(
        Evaluation.interaction_id == interaction_id, Evaluation.evaluator_id == evaluator_id,
        col(Evaluation.calibration_session_id).is_(None)).order_by(col(Evaluation.id).desc())).first()


def create(*, session: Session, principal: Principal, interaction_id: int, scorecard_id: int,
           assignment_id: int | None = None, calibration_session_id: int | None = None,
           is_gold: bool = False, version: ScorecardVersion | None = None, commit: bool = True,
           again: bool = False) -> Evaluation:
    """Start a draft evaluation of an interaction with a scorecard's published version, with the auto-QA
    suggestions of its yes/no questions (see `suggestions`).

    One evaluator scores an interaction once: a second (non-calibration) evaluation by the same evaluator is
    refused with AlreadyEvaluated unless `again` says it is wanted.
    Raises Forbidden (not an evaluator; the evaluator's own interaction), NotFound (interaction, scorecard,
    assignment), InvalidInput (the form does not apply to the interaction's channel), AlreadyEvaluated."""
    _require_evaluator(principal)
    interaction = get_interaction(session=session, interaction_id=interaction_id)
    if handled_by(session=session, interaction=interaction, user_id=principal.user_id):
        raise Forbidden("You cannot evaluate an interaction you handled yourself.")
    # simultaneous starts by the same evaluator (a double click, two tabs) take turns, so the check below sees
    # the draft the other one wrote
    serialized(session, "evaluation", principal.user_id, interaction_id)
    if calibration_session_id is None and not again:
        earlier = own_evaluation_of(session=session, evaluator_id=principal.user_id, interaction_id=interaction_id)
        if earlier is not None and earlier.id is not None:
            raise AlreadyEvaluated(earlier.id)
    if version is None:
        version = scorecards.version_for_evaluation(session=session, scorecard_id=scorecard_id,
                                                    channel=interaction.channel)
    elif interaction.channel not in scorecards.form_of(version).channels:
        raise InvalidInput(f"the scorecard does not apply to {interaction.channel} interactions")
    if assignment_id is None and calibration_session_id is None:
        # scoring a call that is in the evaluator's queue (opened from the call page, say) clears that item
        assignment_id = session.exec(select(EvaluationAssignment.id).where(
            EvaluationAssignment.interaction_id == interaction_id, EvaluationAssignment.evaluator_id == principal.user_id,
            EvaluationAssignment.status == "open")).first()
    if assignment_id is not None:
        assignment = session.get(EvaluationAssignment, assignment_id)
        if assignment is None or assignment.interaction_id != interaction_id:
            raise NotFound(f"assignment {assignment_id} not found for interaction {interaction_id}")
    agent = session.get(User, interaction.agent_id) if interaction.agent_id is not None else None
    assert interaction.id is not None and version.id is not None
    scorecards.lock_version(session=session, version=version)
    evaluation = Evaluation(interaction_id=interaction.id, scorecard_id=version.scorecard_id,
                            scorecard_version_id=version.id, evaluator_id=principal.user_id,
                            agent_id=interaction.agent_id, team_id=agent.team_id if agent else None,
                            channel=interaction.channel, assignment_id=assignment_id,
                            calibration_session_id=calibration_session_id, is_gold=is_gold)
    session.add(evaluation)
    session.flush()
    offered = suggestions.snapshot(session=session, evaluation=evaluation, form=scorecards.form_of(version))
    audit.record(session=session, actor=principal, action="evaluation.create", record_type="evaluation",
                 record_id=evaluation.id, after={"interaction_id": interaction.id, "scorecard_version_id": version.id,
                                                 "agent_id": interaction.agent_id, "suggestions": len(offered),
                                                 **({"again": True} if again else {})})
    if commit:
        session.commit()
    return evaluation


def _check_revision(evaluation: Evaluation, revision: int | None) -> None:
    if revision is not None and revision != evaluation.revision:
        raise Conflict(f"evaluation {evaluation.id} was changed by someone else (revision {evaluation.revision}, "
                       f"you sent {revision}); reload it")


def _for_change(*, session: Session, principal: Principal, evaluation_id: int) -> Evaluation:
    """The evaluation a request is about to change (answers, submit, acknowledge, dispute, resolve), read after
    taking its lock: simultaneous changes of one evaluation (a double click, a retried form) take turns, so the
    second sees the state the first left and is refused (409) instead of doing the change again."""
    serialized(session, "evaluation-change", evaluation_id)
    held = session.identity_map.get(session.identity_key(Evaluation, evaluation_id))
    if held is not None:  # read earlier in this request (a page's handler), maybe before the other change
        session.expire(held)
    return get_visible(session=session, principal=principal, evaluation_id=evaluation_id)


def _own_draft(*, session: Session, principal: Principal, evaluation_id: int) -> Evaluation:
    _require_evaluator(principal)
    evaluation = _for_change(session=session, principal=principal, evaluation_id=evaluation_id)
    if evaluation.evaluator_id != principal.user_id:
        raise Forbidden("Only the evaluator who started this evaluation can change it.")
    if evaluation.state != EvaluationState.DRAFT:
        raise Conflict(f"evaluation {evaluation_id} is {evaluation.state}; only a dispute can change it now")
    return evaluation


def validate_answers(*, session: Session, form: ScorecardForm, interaction_id: int,
                     answers: Sequence[AnswerIn], field: str = "answers") -> None:
    """Raise InvalidInput (with `answers[i].field` paths) for answers that do not fit the form or evidence
    that does not belong to the interaction."""
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, answer in enumerate(answers):
        question = form.question(answer.question_id)
        if question is None:
            problems.append({"loc": f"{field}[{index}].question_id", "msg": f"no question {answer.question_id!r}"})
            continue
        if answer.question_id in seen:
            problems.append({"loc": f"{field}[{index}].question_id", "msg": "answered twice"})
        seen.add(answer.question_id)
        try:
            check_answer(question, AnswerInput(question_id=answer.question_id, value=answer.value, na=answer.na))
        except AnswerError as exc:
            problems.append({"loc": f"{field}[{index}].{'na' if answer.na else 'value'}", "msg": exc.message})
        for ei, evidence in enumerate(answer.evidence):
            loc = f"{field}[{index}].evidence[{ei}]"
            if evidence.message_id is None and evidence.start is None:
                problems.append({"loc": loc, "msg": "give a transcript time (start, seconds) or a message_id"})
            if evidence.start is not None and evidence.end is not None and evidence.end < evidence.start:
                problems.append({"loc": f"{loc}.end", "msg": "ends before it starts"})
            if evidence.message_id is not None:
                message = session.get(Message, evidence.message_id)
                if message is None or message.interaction_id != interaction_id:
                    problems.append({"loc": f"{loc}.message_id", "msg": "no such message in this interaction"})
    if problems:
        raise InvalidInput("Some answers are not valid: " + "; ".join(f"{p['loc']}: {p['msg']}" for p in problems),
                           details=problems)


def _write_answers(*, session: Session, evaluation: Evaluation, answers: Sequence[AnswerIn]) -> None:
    assert evaluation.id is not None
    existing = {a.question_id: a for a in answers_of(session=session, evaluation_id=evaluation.id)}
    for answer in answers:
        row = existing.get(answer.question_id) or EvaluationAnswer(evaluation_id=evaluation.id,
                                                                  question_id=answer.question_id)
        row.value, row.na, row.comment = answer.value, answer.na, answer.comment
        row.evidence = [e.model_dump(exclude_none=True) for e in answer.evidence]
        session.add(row)


def _stored_inputs(rows: Sequence[EvaluationAnswer]) -> list[AnswerIn]:
    return [AnswerIn(question_id=r.question_id, value=r.value, na=r.na, comment=r.comment) for r in rows]


def _touch(evaluation: Evaluation) -> None:
    evaluation.revision += 1
    evaluation.updated_at = utcnow()


def save_answers(*, session: Session, principal: Principal, evaluation_id: int, revision: int,
                 answers: Sequence[AnswerIn], replace: bool = False) -> Evaluation:
    """Save draft answers (merged by question id; `replace=True` drops answers not given).
    Raises Conflict when `revision` is stale or the evaluation is no longer a draft."""
    evaluation = _own_draft(session=session, principal=principal, evaluation_id=evaluation_id)
    _check_revision(evaluation, revision)
    form = form_of(session=session, evaluation=evaluation)
    validate_answers(session=session, form=form, interaction_id=evaluation.interaction_id, answers=answers)
    if replace:
        given = {a.question_id for a in answers}
        for row in answers_of(session=session, evaluation_id=evaluation_id):
            if row.question_id not in given:
                session.delete(row)
    _write_answers(session=session, evaluation=evaluation, answers=answers)
    _touch(evaluation)
    session.add(evaluation)
    session.commit()
    return evaluation


def preview(*, form: ScorecardForm, answers: Sequence[AnswerIn]) -> ScoreResult:
    """Score answers without saving (the live preview). Raises InvalidInput for answers that do not fit."""
    return scorecards.score_answers(form=form, answers=[ScoreAnswer(question_id=a.question_id, value=a.value, na=a.na)
                                                        for a in answers])


def _apply_score(*, session: Session, evaluation: Evaluation, form: ScorecardForm) -> ScoreResult:
    assert evaluation.id is not None
    rows = answers_of(session=session, evaluation_id=evaluation.id)
    result = preview(form=form, answers=_stored_inputs(rows))
    if result.missing:
        raise InvalidInput("Required answers are missing: " + ", ".join(result.missing),
                           details=[{"loc": f"answers.{qid}", "msg": "required"} for qid in result.missing])
    for row in rows:
        q = result.question(row.question_id)
        row.earned = q.earned if q and q.visible and q.possible > 0 else None
        row.possible = q.possible if q and q.visible and q.possible > 0 else None
        row.critical_failed = bool(q and q.critical_failed)
        session.add(row)
    evaluation.score, evaluation.critical_failed = result.score, result.critical_failed
    evaluation.breakdown = result.to_dict()
    return result


def _answer_values(*, session: Session, evaluation_id: int) -> dict[str, Any]:
    return {a.question_id: ("N/A" if a.na else a.value) for a in answers_of(session=session, evaluation_id=evaluation_id)}


def submit(*, session: Session, principal: Principal, evaluation_id: int, revision: int | None = None,
           answers: Sequence[AnswerIn] | None = None) -> Evaluation:
    """Score a draft on the server and submit it (optionally saving `answers` first).

    Raises InvalidInput listing missing required answers, Conflict (stale revision, not a draft)."""
    evaluation = _own_draft(session=session, principal=principal, evaluation_id=evaluation_id)
    _check_revision(evaluation, revision)
    form = form_of(session=session, evaluation=evaluation)
    if answers:
        validate_answers(session=session, form=form, interaction_id=evaluation.interaction_id, answers=answers)
        _write_answers(session=session, evaluation=evaluation, answers=answers)
        session.flush()
    _apply_score(session=session, evaluation=evaluation, form=form)
    outcomes = suggestions.record_outcomes(session=session, evaluation_id=evaluation_id,
                                           answers=answers_of(session=session, evaluation_id=evaluation_id))
    now = utcnow()
    evaluation.state, evaluation.submitted_at = EvaluationState.SUBMITTED, now
    evaluation.respond_by = now + timedelta(days=form.dispute_window_days)
    _touch(evaluation)
    session.add(evaluation)
    if evaluation.assignment_id is not None:
        assignment = session.get(EvaluationAssignment, evaluation.assignment_id)
        if assignment is not None:
            assignment.status = "done"
            session.add(assignment)
    audit.record(session=session, actor=principal, action="evaluation.submit", record_type="evaluation",
                 record_id=evaluation_id, before={"state": "draft", "score": None},
                 after={"state": evaluation.state, "score": evaluation.score,
                        "critical_failed": evaluation.critical_failed,
                        "answers": _answer_values(session=session, evaluation_id=evaluation_id),
                        **({"suggestions": outcomes} if outcomes else {})})
    _publish(session, EventType.EVALUATION_SUBMITTED, {
        "evaluation_id": evaluation_id, "interaction_id": evaluation.interaction_id, "agent_id": evaluation.agent_id,
        "evaluator_id": evaluation.evaluator_id, "score": evaluation.score,
        "scorecard_version_id": evaluation.scorecard_version_id})
    session.commit()
    return evaluation


# ---------------------------------------------------------------- the agent's answer

def _agents_own(*, session: Session, principal: Principal, evaluation_id: int) -> Evaluation:
    evaluation = _for_change(session=session, principal=principal, evaluation_id=evaluation_id)
    if evaluation.agent_id != principal.user_id:
        raise Forbidden("Only the evaluated agent can acknowledge or dispute this evaluation.")
    if evaluation.state != EvaluationState.SUBMITTED:
        raise Conflict(f"evaluation {evaluation_id} is {evaluation.state}: nothing to acknowledge or dispute")
    return evaluation


def acknowledge(*, session: Session, principal: Principal, evaluation_id: int) -> Evaluation:
    evaluation = _agents_own(session=session, principal=principal, evaluation_id=evaluation_id)
    evaluation.state, evaluation.acknowledged_at = EvaluationState.ACKNOWLEDGED, utcnow()
    _touch(evaluation)
    session.add(evaluation)
    audit.record(session=session, actor=principal, action="evaluation.acknowledge", record_type="evaluation",
                 record_id=evaluation_id, before={"state": "submitted"}, after={"state": evaluation.state})
    session.commit()
    return evaluation


def dispute(*, session: Session, principal: Principal, evaluation_id: int, reason: str,
            items: Sequence[DisputeItem]) -> EvaluationDispute:
    """The agent disputes a submitted evaluation within its window, with a reason (and per question).
    Raises Conflict after the window or when not in the submitted state; InvalidInput for unknown questions."""
    evaluation = _agents_own(session=session, principal=principal, evaluation_id=evaluation_id)
    if evaluation.respond_by is not None and utcnow() > as_utc(evaluation.respond_by):
        raise Conflict("The dispute window of this evaluation has closed.")
    form = form_of(session=session, evaluation=evaluation)
    bad = [{"loc": f"items[{i}].question_id", "msg": f"no question {item.question_id!r}"}
           for i, item in enumerate(items) if form.question(item.question_id) is None]
    if bad:
        raise InvalidInput("Unknown questions in the dispute", details=bad)
    row = EvaluationDispute(evaluation_id=evaluation_id, raised_by=principal.user_id, reason=reason,
                            items=[i.model_dump() for i in items], score_before=evaluation.score)
    session.add(row)
    evaluation.state = EvaluationState.DISPUTED
    _touch(evaluation)
    session.add(evaluation)
    session.flush()
    audit.record(session=session, actor=principal, action="evaluation.dispute", record_type="evaluation",
                 record_id=evaluation_id, before={"state": "submitted", "score": evaluation.score},
                 after={"state": "disputed", "dispute_id": row.id, "items": row.items}, reason=reason)
    _publish(session, EventType.DISPUTE_OPENED, {"dispute_id": row.id, "evaluation_id": evaluation_id,
                                         "agent_id": evaluation.agent_id, "reason": reason})
    session.commit()
    return row


def open_dispute(*, session: Session, evaluation_id: int) -> EvaluationDispute | None:
    return session.exec(select(EvaluationDispute).where(EvaluationDispute.evaluation_id == evaluation_id,
                                                        col(EvaluationDispute.resolved_at).is_(None))).first()


def may_resolve(*, session: Session, principal: Principal, evaluation: Evaluation) -> bool:
    """Evaluators and admins resolve disputes, except the evaluation's own evaluator when its form says
    `dispute_resolved_by_other` (the default)."""
    if not principal.has(*EVALUATOR_ROLES):
        return False
    if evaluation.evaluator_id != principal.user_id:
        return True
    return not form_of(session=session, evaluation=evaluation).dispute_resolved_by_other


def resolve(*, session: Session, principal: Principal, evaluation_id: int, outcome: str, reason: str,
            answers: Sequence[AnswerIn] = (), revision: int | None = None) -> Evaluation:
    """An evaluator or admin resolves a dispute: "upheld" keeps the score; "adjusted" changes the given
    answers and re-scores. The audit event keeps the score and the changed answers before and after.
    Raises Forbidden when the evaluation's own evaluator tries and the form wants someone else (`may_resolve`)."""
    _require_evaluator(principal)
    evaluation = _for_change(session=session, principal=principal, evaluation_id=evaluation_id)
    _check_revision(evaluation, revision)
    row = open_dispute(session=session, evaluation_id=evaluation_id)
    if evaluation.state != EvaluationState.DISPUTED or row is None:
        raise Conflict(f"evaluation {evaluation_id} is {evaluation.state}, not disputed")
    if not may_resolve(session=session, principal=principal, evaluation=evaluation):
        raise Forbidden("Another evaluator or an admin resolves this dispute: you scored this evaluation, and "
                        "its form asks for a second pair of eyes.")
    before_values = _answer_values(session=session, evaluation_id=evaluation_id)
    before: dict[str, Any] = {"state": evaluation.state, "score": evaluation.score, "critical_failed": evaluation.critical_failed}
    if outcome == "adjusted":
        if not answers:
            raise InvalidInput("An adjusted resolution needs the changed answers",
                               details=[{"loc": "answers", "msg": "at least one answer required"}])
        form = form_of(session=session, evaluation=evaluation)
        validate_answers(session=session, form=form, interaction_id=evaluation.interaction_id, answers=answers)
        _write_answers(session=session, evaluation=evaluation, answers=answers)
        session.flush()
        _apply_score(session=session, evaluation=evaluation, form=form)
        changed = {a.question_id for a in answers}
        before["answers"] = {k: v for k, v in before_values.items() if k in changed}
    after_values = _answer_values(session=session, evaluation_id=evaluation_id)
    now = utcnow()
    row.resolved_by, row.resolved_at, row.outcome, row.resolution_reason = principal.user_id, now, outcome, reason
    row.score_after = evaluation.score
    evaluation.state = EvaluationState.RESOLVED
    _touch(evaluation)
    session.add(row)
    session.add(evaluation)
    after: dict[str, Any] = {"state": evaluation.state, "score": evaluation.score,
                             "critical_failed": evaluation.critical_failed, "outcome": outcome}
    if outcome == "adjusted":
        after["answers"] = {a.question_id: after_values.get(a.question_id) for a in answers}
    audit.record(session=session, actor=principal, action="evaluation.resolve", record_type="evaluation",
                 record_id=evaluation_id, before=before, after=after, reason=reason)
    _publish(session, EventType.DISPUTE_RESOLVED, {"dispute_id": row.id, "evaluation_id": evaluation_id, "outcome": outcome,
                                           "resolved_by": principal.user_id, "score": evaluation.score})
    session.commit()
    return evaluation


def _publish(session: Session, event_type: EventType, payload: dict[str, Any]) -> None:
    """Outbound webhooks: stored in this transaction, delivered by the worker (connectors handles the hook)."""
    PUBLISH_EVENT.emit(Event(session=session, type=event_type, data=payload))


# ---------------------------------------------------------------- shaping for the API

def _version_number(*, session: Session, evaluation: Evaluation) -> int:
    return version_of(session=session, evaluation=evaluation).number


def public(*, session: Session, evaluation: Evaluation) -> EvaluationPublic:
    assert evaluation.id is not None
    return EvaluationPublic(
        id=evaluation.id, interaction_id=evaluation.interaction_id, scorecard_id=evaluation.scorecard_id,
        scorecard_version_id=evaluation.scorecard_version_id,
        scorecard_version=_version_number(session=session, evaluation=evaluation),
        evaluator_id=evaluation.evaluator_id, agent_id=evaluation.agent_id, team_id=evaluation.team_id,
        channel=evaluation.channel, state=evaluation.state, score=evaluation.score,
        critical_failed=evaluation.critical_failed, revision=evaluation.revision,
        calibration_session_id=evaluation.calibration_session_id, is_gold=evaluation.is_gold,
        created_at=evaluation.created_at, submitted_at=evaluation.submitted_at, respond_by=evaluation.respond_by,
        acknowledged_at=evaluation.acknowledged_at)


def detail(*, session: Session, evaluation: Evaluation) -> EvaluationDetail:
    assert evaluation.id is not None
    answers = [AnswerPublic(question_id=a.question_id, value=a.value, na=a.na, comment=a.comment,
                            evidence=a.evidence, earned=a.earned, possible=a.possible,
                            critical_failed=a.critical_failed)
               for a in answers_of(session=session, evaluation_id=evaluation.id)]
    disputes = [DisputePublic.model_validate(d, from_attributes=True)
                for d in disputes_of(session=session, evaluation_id=evaluation.id)]
    return EvaluationDetail(**public(session=session, evaluation=evaluation).model_dump(), answers=answers,
                            breakdown=evaluation.breakdown, disputes=disputes)


def question_map(form: ScorecardForm) -> dict[str, Question]:
    return {q.id: q for _, q in form.questions()}
