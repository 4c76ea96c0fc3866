"""Demo evaluations: a weekly sampling rule with its assignments, scored evaluations of every channel
(acknowledged, disputed, resolved), and twelve closed calibration sessions over four months in which evan
scores consistently above the gold answers (the bias report flags him) and eva around them. Runs after the scorecards demo
(DEMO_ORDER 31 > 30) and after the interactions; idempotent (does nothing once demo evaluations exist)."""

import random
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session, col, func, select

from app.auth import service as auth_service
from app.core.db import session_scope
from app.core.jobs import Runtime
from app.core.security import Principal
from app.core.timeutil import as_utc
from app.evaluations import calibration, sampling, service
from app.evaluations.models import AnswerIn, DisputeItem, Evaluation, SamplingRuleCreate
from app.interactions.models import Interaction
from app.scorecards import service as scorecards
from app.scorecards.schema import ScorecardForm
from app.scorecards.scoring import AnswerInput, visible_question_ids

DEMO_ORDER = 31
PER_CHANNEL = 3
SAMPLED_WEEKS = 8


def demo_answers(form: ScorecardForm, rng: random.Random) -> list[AnswerIn]:
    """Plausible answers, mostly good, answering only the questions their conditions show."""
    given: dict[str, AnswerInput] = {}
    out: list[AnswerIn] = []
    for _, question in form.questions():
        if question.id not in visible_question_ids(form, given) and question.condition is not None:
            continue
        if question.type == "comment":
            out.append(AnswerIn(question_id=question.id, value=rng.choice(
                ["Good call overall.", "Watch the hold etiquette.", "Friendly and clear."])))
            continue
        if question.na_allowed and rng.random() < 0.1:
            answer = AnswerIn(question_id=question.id, na=True)
        elif question.type == "yes_no":
            answer = AnswerIn(question_id=question.id, value=rng.random() < (0.93 if question.critical else 0.8))
        elif question.type == "scale":
            assert question.min is not None and question.max is not None
            answer = AnswerIn(question_id=question.id, value=max(question.min, question.max - rng.choice([0, 0, 1, 2])))
        else:
            options = question.options or []
            best = max(options, key=lambda o: o.points)
            answer = AnswerIn(question_id=question.id, value=best.value if rng.random() < 0.7 else rng.choice(options).value)
        given[question.id] = AnswerInput(question_id=answer.question_id, value=answer.value, na=answer.na)
        out.append(answer)
    return out


def _principal(session: Session, username: str) -> Principal | None:
    user = auth_service.get_user_by_username(session=session, username=username)
    return auth_service.principal_of(user) if user else None


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    with session_scope(runtime.sessions) as session:
        if session.exec(select(func.count()).select_from(Evaluation)).one():
            log("demo: evaluations already loaded")
            return
        eva, evan, admin = (_principal(session, n) for n in ("eva", "evan", "admin"))
        interactions = list(session.exec(select(Interaction).where(col(Interaction.agent_id).is_not(None))
                                         .order_by(col(Interaction.started_at))).all())
        cards = {c.key: c for c in scorecards.list_scorecards(session=session)}
        if not (eva and evan and admin) or not interactions or not cards:
            log("demo: evaluations skipped (needs the demo users, interactions and scorecards)")
            return
        rng = random.Random(2026)
        scored = _evaluate(session=session, evaluators=[eva, evan], interactions=interactions, rng=rng)
        closed = _calibrate(session=session, lead=admin, raters=[eva, evan], interactions=interactions, rng=rng)
        # sampled last: a rule picks interactions nobody scored yet, so the evaluators' queues hold real work
        created = _sample(session=session, admin=admin, evaluators=[eva, evan], interactions=interactions)
        log(f"demo: {created} sampled assignment(s), {scored} evaluation(s), {closed} calibration session(s)")


def _sample(*, session: Session, admin: Principal, evaluators: list[Principal], interactions: list[Interaction]) -> int:
    rule = sampling.create_rule(session=session, principal=admin, data=SamplingRuleCreate(
        name="Weekly: 2 calls per agent", channel="call", per_agent=2, period_days=7, due_days=7, seed=1,
        evaluator_ids=[e.user_id for e in evaluators]))
    last = as_utc(interactions[-1].started_at)
    week = (last - timedelta(days=last.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    assert rule.id is not None
    # the rule as if it had run every week for the past SAMPLED_WEEKS: what nobody scored lands in the queues,
    # the older items overdue
    return sum(len(sampling.run_rule(session=session, principal=admin, rule_id=rule.id,
                                     period_start=week - timedelta(weeks=n))) for n in range(SAMPLED_WEEKS))


def _evaluate(*, session: Session, evaluators: list[Principal], interactions: list[Interaction],
              rng: random.Random) -> int:
    count = 0
    by_channel: dict[str, list[Interaction]] = {}
    for interaction in reversed(interactions):
        by_channel.setdefault(interaction.channel, []).append(interaction)
    for channel, rows in sorted(by_channel.items()):
        applicable = scorecards.list_scorecards(session=session, channel=channel)
        if not applicable or applicable[0].id is None:
            continue
        for index, interaction in enumerate(rows[:PER_CHANNEL]):
            evaluator = evaluators[index % len(evaluators)]
            assert interaction.id is not None
            evaluation = service.create(session=session, principal=evaluator, interaction_id=interaction.id,
                                        scorecard_id=applicable[0].id)
            assert evaluation.id is not None
            form = service.form_of(session=session, evaluation=evaluation)
            service.submit(session=session, principal=evaluator, evaluation_id=evaluation.id,
                           answers=demo_answers(form, rng))
            agent = (auth_service.principal_of(auth_service.get_user(session=session, user_id=interaction.agent_id))
                     if interaction.agent_id else None)
            if agent and index == 0:
                service.acknowledge(session=session, principal=agent, evaluation_id=evaluation.id)
            elif agent and index == 1:
                first_scored = next(q for _, q in form.questions() if q.scored)
                service.dispute(session=session, principal=agent, evaluation_id=evaluation.id,
                                reason="I followed the script here; please listen again.",
                                items=[DisputeItem(question_id=first_scored.id, reason="It was done at the start.")])
                if channel == "call":
                    service.resolve(session=session, principal=evaluators[(index + 1) % len(evaluators)],
                                    evaluation_id=evaluation.id, outcome="upheld",
                                    reason="Listened again: the score stands.")
            count += 1
    return count


CALIBRATION_SESSIONS = 12  # about three a month over four months: enough pairs to flag, units for alpha


def _calibration_answers(form: ScorecardForm, rng: random.Random, index: int) -> dict[str, list[AnswerIn]]:
    """Gold, a lenient and a noisy evaluator for one session. The gold (a strict lead) always marks the first
    plain yes/no question after the first one as failed (plain: not conditional, no question depends on it,
    worth points, not critical) and gives the first scale a
    middle value; the lenient evaluator passes every yes/no the gold failed and adds a step on the scale (so a
    consistent positive offset); the noisy one copies the gold but moves the scale -1/0/+1 in turn (no offset
    on average). Only plain questions are changed, so every condition stays as the gold answered it."""
    gold = demo_answers(form, rng)
    questions = {q.id: q for _, q in form.questions()}
    gates = {q.condition.question_id for q in questions.values() if q.condition is not None}
    plain = [q for q in questions.values() if q.condition is None and q.id not in gates and q.max_points > 0
             and not q.critical]
    strict = next((q.id for q in plain[1:] if q.type == "yes_no"), None)
    scale = next((q for q in plain if q.type == "scale"), None)

    def changed(answers: list[AnswerIn], updates: dict[str, object]) -> list[AnswerIn]:
        return [a.model_copy(update={"value": updates[a.question_id], "na": False}) if a.question_id in updates else a
                for a in answers]

    middle = {}
    if scale is not None and scale.min is not None and scale.max is not None:
        middle[scale.id] = rng.choice([scale.max - 1, scale.max - 2]) if scale.max - scale.min >= 2 else scale.min
    gold = changed(gold, {**middle, **({strict: False} if strict else {})})
    plain_ids = {q.id for q in plain}
    lenient_updates: dict[str, object] = {a.question_id: True for a in gold
                                          if a.value is False and a.question_id in plain_ids}
    noisy_updates: dict[str, object] = {}
    if scale is not None and scale.id in middle:
        assert scale.max is not None and scale.min is not None
        lenient_updates[scale.id] = min(scale.max, int(middle[scale.id]) + 1)
        noisy_updates[scale.id] = max(scale.min, min(scale.max, int(middle[scale.id]) + (1, -1, 0)[index % 3]))
    return {"gold": gold, "lenient": changed(gold, lenient_updates), "noisy": changed(gold, noisy_updates)}


def _calibrate(*, session: Session, lead: Principal, raters: list[Principal], interactions: list[Interaction],
               rng: random.Random) -> int:
    """Closed calibration sessions on the demo calls, spread over the four months before the last interaction
    (closing dates set back), where raters[0] is the noisy evaluator and raters[1] the lenient one: the bias
    report flags raters[1] against gold, and the agreement page has alpha per month."""
    calls = [i for i in interactions if i.channel == "call"]
    voice = scorecards.get_by_key(session=session, key="voice_call")
    if not calls or voice is None or voice.id is None:
        return 0
    noisy, lenient = raters[0], raters[1]
    last = as_utc(interactions[-1].started_at)
    for index in range(CALIBRATION_SESSIONS):
        interaction = calls[index % len(calls)]
        assert interaction.id is not None
        title = "Demo calibration: first call" if index == 0 else f"Demo calibration {index + 1}"
        row = calibration.create(session=session, principal=lead, title=title, interaction_id=interaction.id,
                                 scorecard_id=voice.id, evaluator_ids=[r.user_id for r in raters])
        assert row.id is not None
        answers: dict[str, list[AnswerIn]] | None = None
        for role, person in (("gold", lead), ("noisy", noisy), ("lenient", lenient)):
            evaluation = calibration.start_evaluation(session=session, principal=person, calibration_id=row.id)
            assert evaluation.id is not None
            if answers is None:
                answers = _calibration_answers(service.form_of(session=session, evaluation=evaluation), rng, index)
            service.submit(session=session, principal=person, evaluation_id=evaluation.id, answers=answers[role])
        calibration.close(session=session, principal=lead, calibration_id=row.id)
        closed_at = last - timedelta(days=10 * (CALIBRATION_SESSIONS - 1 - index))
        row.created_at, row.closed_at = closed_at - timedelta(days=2), closed_at
        session.add(row)
        session.commit()
    return CALIBRATION_SESSIONS
