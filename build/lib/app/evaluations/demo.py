"""Demo evaluations: a weekly sampling rule with its assignments, scored evaluations of every channel
(acknowledged, disputed, resolved), and a closed calibration session. Runs after the scorecards demo
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
        created = _sample(session=session, admin=admin, evaluators=[eva, evan], interactions=interactions)
        scored = _evaluate(session=session, evaluators=[eva, evan], interactions=interactions, rng=rng)
        closed = _calibrate(session=session, lead=admin, raters=[eva, evan], interactions=interactions, rng=rng)
        log(f"demo: {created} sampled assignment(s), {scored} evaluation(s), {closed} calibration session(s)")


def _sample(*, session: Session, admin: Principal, evaluators: list[Principal], interactions: list[Interaction]) -> int:
    rule = sampling.create_rule(session=session, principal=admin, data=SamplingRuleCreate(
        name="Weekly: 2 calls per agent", channel="call", per_agent=2, period_days=7, due_days=7, seed=1,
        evaluator_ids=[e.user_id for e in evaluators]))
    last = as_utc(interactions[-1].started_at)
    week = (last - timedelta(days=last.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    assert rule.id is not None
    return len(sampling.run_rule(session=session, principal=admin, rule_id=rule.id, period_start=week))


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


def _calibrate(*, session: Session, lead: Principal, raters: list[Principal], interactions: list[Interaction],
               rng: random.Random) -> int:
    calls = [i for i in interactions if i.channel == "call"]
    voice = scorecards.get_by_key(session=session, key="voice_call")
    if not calls or voice is None or voice.id is None:
        return 0
    interaction = calls[0]
    assert interaction.id is not None
    row = calibration.create(session=session, principal=lead, title="Demo calibration: first call",
                             interaction_id=interaction.id, scorecard_id=voice.id,
                             evaluator_ids=[r.user_id for r in raters])
    assert row.id is not None
    for person in [lead, *raters]:
        evaluation = calibration.start_evaluation(session=session, principal=person, calibration_id=row.id)
        assert evaluation.id is not None
        form = service.form_of(session=session, evaluation=evaluation)
        service.submit(session=session, principal=person, evaluation_id=evaluation.id, answers=demo_answers(form, rng))
    calibration.close(session=session, principal=lead, calibration_id=row.id)
    return 1
