"""Interaction analytics: analyse one interaction (sentiment, categories, PII, auto-QA) and store the
results idempotently; read them back with the viewer's scope; review auto answers; agreement report.

Features above this one give the analysis its inputs through the core hooks (app/core/hooks.py), without
this module knowing them:
- `AUTO_QA_RULES`: {answer key: rule (dict or model)} — scorecards answers with the auto rules of the
  published scorecard(s) that apply to the interaction's channel.
- `CALL_METRICS`: {"hold_seconds": 12.0, ...} — speech answers with the call's metrics (talk, silence,
  overtalk, hold).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.core import audit
from app.core.errors import InvalidInput, NotFound
from app.core.hooks import AUTO_QA_RULES, CALL_METRICS, AnalysisSubject
from app.core.jobs import JobKind, JobQueue
from app.core.language import detect_language
from app.core.listing import Page, paginate
from app.core.models import Job
from app.core.security import Principal
from app.core.timeutil import as_utc, utcnow
from app.interactions import service as interactions
from app.interactions.models import Interaction, Message, Segment
from app.nlp import sentiment
from app.nlp.agreement import QuestionAgreement, agreement_by_question
from app.nlp.categories import CategorySet, default_categories
from app.nlp.models import AutoAnswerReview, AutoAnswerRow, CategoryHitRow, InteractionAnalytics, PiiSpanRow
from app.nlp.rules import Analysis, AutoAnswer, AutoRuleModel, Hit, Unit, evaluate_rule, parse_rule
from app.privacy import pii
from app.privacy.pipeline import MODEL_PACKAGE, MODEL_VERSION, get_nlp

METRIC_NAME = re.compile(r"[a-z_][a-z0-9_]{0,99}")
PIPELINE = f"{MODEL_PACKAGE}-{MODEL_VERSION}+vader"
ANALYZE_JOB = JobKind.NLP_ANALYZE


# ---------------------------------------------------------------- analysis


@dataclass
class AnalysisOutcome:
    interaction_id: int
    analysis: Analysis
    summary: sentiment.SentimentSummary
    pii_spans: dict[tuple[str, int], list[pii.PiiSpan]] = field(default_factory=dict)
    answers: dict[str, AutoAnswer] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"interaction_id": self.interaction_id, "units": len(self.analysis.units),
                "categories": sorted({h.hit.category for u in self.analysis.units for h in u.hits}),
                "pii_spans": sum(len(v) for v in self.pii_spans.values()),
                "auto_answers": {q: a.value for q, a in self.answers.items()},
                "sentiment_overall": self.summary.overall}


def _side(role: str) -> str:
    return role if role in ("agent", "customer") else "other"


def load_units(*, session: Session, interaction: Interaction) -> list[Unit]:
    """The interaction's segments (calls) and messages as units in time order."""
    units: list[Unit] = []
    segments = session.exec(select(Segment).where(Segment.interaction_id == interaction.id)
                            .order_by(col(Segment.seq))).all()
    for segment in segments:
        assert segment.id is not None
        units.append(Unit("segment", segment.id, _side(segment.speaker), segment.text, segment.start, segment.end,
                          words=list(segment.words or [])))
    messages = session.exec(select(Message).where(Message.interaction_id == interaction.id)
                            .order_by(col(Message.sent_at), col(Message.id))).all()
    started = as_utc(interaction.started_at)
    for message in messages:
        assert message.id is not None
        at = max(0.0, (as_utc(message.sent_at) - started).total_seconds())
        units.append(Unit("message", message.id, _side(message.author_role), message.text, at, at))
    return sorted(units, key=lambda u: (u.start, u.source_type, u.source_id))


def analyze_units(units: Sequence[Unit], *, categories: CategorySet | None = None,
                  with_pii: bool = True) -> dict[tuple[str, int], list[pii.PiiSpan]]:
    """Fill each unit's doc, sentiment and category hits (in place); return PII spans per unit."""
    categories = categories or default_categories()
    found: dict[tuple[str, int], list[pii.PiiSpan]] = {}
    docs = get_nlp().pipe([u.text for u in units], batch_size=64)
    previous = ""  # the turn before: its question ("your date of birth?") tells what the answer is
    for unit, doc in zip(units, docs, strict=True):
        unit.doc = doc
        unit.language = detect_language(unit.text).code
        unit.sentiment = sentiment.score(unit.text, unit.language)
        unit.hits = [Hit(h, *unit.times_of(h.start_char, h.end_char)) for h in categories.match(doc)]
        if with_pii:
            found[(unit.source_type, unit.source_id)] = pii.find_pii(unit.text, doc=doc, context=previous)
        previous = unit.text
    return found


def _subject(session: Session, interaction: Interaction) -> AnalysisSubject:
    assert interaction.id is not None
    return AnalysisSubject(session=session, interaction_id=interaction.id, channel=interaction.channel)


def _rules_for(*, session: Session, interaction: Interaction, rules: Mapping[str, Any] | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for found in AUTO_QA_RULES.emit(_subject(session, interaction)):
        merged.update(found)
    merged.update(rules or {})
    return {question_id: parse_rule(rule) if isinstance(rule, dict) else rule for question_id, rule in merged.items()}


def _metrics_for(*, session: Session, interaction: Interaction, metrics: Mapping[str, float] | None) -> dict[str, float]:
    merged: dict[str, float] = {}
    for found in CALL_METRICS.emit(_subject(session, interaction)):
        merged.update(found)
    merged.update(metrics or {})
    return merged


def analyze_interaction(*, session: Session, interaction_id: int, rules: Mapping[str, Any] | None = None,
                        metrics: Mapping[str, float] | None = None) -> AnalysisOutcome:
    """Compute sentiment, categories, PII and auto answers for one interaction and store them,
    replacing any earlier results in ONE transaction (a retry or a re-run never doubles rows).

    `rules` ({question_id: rule}) and `metrics` add to what the registered sources give. Messages get
    `redacted_text`. Reviews of auto answers are kept. Raises NotFound for an unknown interaction and
    pydantic.ValidationError for an invalid rule.
    """
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound(f"interaction {interaction_id} not found")
    units = load_units(session=session, interaction=interaction)
    pii_spans = analyze_units(units)
    analysis = Analysis(channel=interaction.channel, units=units,
                        metrics=_metrics_for(session=session, interaction=interaction, metrics=metrics))
    parsed = _rules_for(session=session, interaction=interaction, rules=rules)
    answers = {question_id: evaluate_rule(rule, analysis) for question_id, rule in parsed.items()}
    summary = sentiment.summarize([(u.speaker, u.sentiment) for u in units])
    _store(session=session, interaction=interaction, analysis=analysis, summary=summary, pii_spans=pii_spans,
           answers=answers, rules=parsed)
    return AnalysisOutcome(interaction_id, analysis, summary, pii_spans, answers)


def answer_rules(*, session: Session, interaction_id: int, rules: Mapping[str, AutoRuleModel]) -> dict[str, AutoAnswer]:
    """Answer `rules` ({key: rule}) for one interaction from its transcript or messages and its metrics,
    storing nothing (a draft form's rules are tried on past interactions before publishing).
    Raises NotFound for an unknown interaction."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound(f"interaction {interaction_id} not found")
    if not rules:
        return {}
    units = load_units(session=session, interaction=interaction)
    analyze_units(units, with_pii=False)
    analysis = Analysis(channel=interaction.channel, units=units,
                        metrics=_metrics_for(session=session, interaction=interaction, metrics=None))
    return {key: evaluate_rule(rule, analysis) for key, rule in rules.items()}


def _store(*, session: Session, interaction: Interaction, analysis: Analysis, summary: sentiment.SentimentSummary,
           pii_spans: dict[tuple[str, int], list[pii.PiiSpan]], answers: dict[str, AutoAnswer],
           rules: Mapping[str, BaseModel]) -> None:
    interaction_id = interaction.id
    redaction_changed = False
    for table in (InteractionAnalytics, CategoryHitRow, PiiSpanRow, AutoAnswerRow):
        session.execute(delete(table).where(col(table.interaction_id) == interaction_id))
    assert interaction_id is not None
    session.add(InteractionAnalytics(
        interaction_id=interaction_id, channel=interaction.channel, sentiment_overall=summary.overall,
        sentiment_agent=summary.agent, sentiment_customer=summary.customer, customer_start=summary.customer_start,
        customer_end=summary.customer_end, unit_count=len(analysis.units), auto_score=auto_score(answers),
        metrics=dict(analysis.metrics),
        categories=sorted({h.hit.category for u in analysis.units for h in u.hits}),
        pii_count=sum(len(v) for v in pii_spans.values()), pipeline=PIPELINE, analyzed_at=utcnow(),
        timeline=[{"source_type": u.source_type, "source_id": u.source_id, "speaker": u.speaker,
                   "start": round(u.start, 2), "end": round(u.end, 2), "language": u.language,
                   "sentiment": round(u.sentiment, 4) if u.sentiment is not None else None}
                  for u in analysis.units]))
    for unit in analysis.units:
        for hit in unit.hits:
            session.add(CategoryHitRow(
                interaction_id=interaction_id, category=hit.hit.category, phrase=hit.hit.phrase[:200],
                source_type=unit.source_type, source_id=unit.source_id, speaker=unit.speaker,
                start_char=hit.hit.start_char, end_char=hit.hit.end_char, text=hit.hit.text,
                start_time=hit.start_time if unit.source_type == "segment" else None,
                end_time=hit.end_time if unit.source_type == "segment" else None))
        spans = pii_spans.get((unit.source_type, unit.source_id), [])
        for span in spans:
            session.add(PiiSpanRow(interaction_id=interaction_id, source_type=unit.source_type,
                                   source_id=unit.source_id, kind=span.kind, start_char=span.start,
                                   end_char=span.end, confidence=span.confidence, detector=span.source))
        if unit.source_type == "message":
            message = session.get(Message, unit.source_id)
            if message is not None and message.redacted_text != (redacted := pii.redact(message.text, spans)):
                message.redacted_text = redacted
                session.add(message)
                redaction_changed = True
    for question_id, answer in answers.items():
        session.add(AutoAnswerRow(
            interaction_id=interaction_id, question_id=question_id, value=answer.value,
            confidence=answer.confidence, summary=answer.summary[:1000],
            evidence=[e.model_dump(exclude_none=True) for e in answer.evidence],
            rule=rules[question_id].model_dump(), computed_at=utcnow()))
    if redaction_changed:  # the search index holds redacted text: rebuild it from the new redaction
        session.flush()
        interactions.reindex_interaction(session=session, interaction_id=interaction_id)
    session.commit()


def auto_score(answers: Mapping[str, AutoAnswer]) -> float | None:
    """Share of "yes" among the yes/no auto answers (None when there are none)."""
    decided = [a.value for a in answers.values() if a.value != "na"]
    return round(decided.count("yes") / len(decided), 4) if decided else None


def enqueue_analysis(*, queue: JobQueue, session: Session, interaction_id: int, dedupe_key: str | None = None,
                     rules: Mapping[str, dict[str, Any]] | None = None) -> Job:
    """Queue the analytics job for an interaction (after transcription or ingest).

    Pass a `dedupe_key` (e.g. f"nlp.analyze:{id}:{transcript_version}") to make repeated enqueues of
    the same content a no-op; without one every call queues a run (the job itself is idempotent).
    """
    payload: dict[str, Any] = {"interaction_id": interaction_id}
    if rules:
        payload["rules"] = dict(rules)
    return queue.enqueue(session=session, kind=ANALYZE_JOB, payload=payload, dedupe_key=dedupe_key)


def unanalyzed_ids(*, session: Session, limit: int = 200) -> list[int]:
    """Interactions that have segments or messages but no analytics yet, oldest id first."""
    has_content = col(Interaction.id).in_(select(Segment.interaction_id)) | col(Interaction.id).in_(
        select(Message.interaction_id))
    analysed = select(InteractionAnalytics.interaction_id)
    ids = session.exec(select(Interaction.id).where(has_content, col(Interaction.id).not_in(analysed))
                       .order_by(col(Interaction.id)).limit(limit)).all()
    return [i for i in ids if i is not None]


# ---------------------------------------------------------------- reading


@dataclass
class InteractionAnalyticsView:
    interaction: Interaction
    analytics: InteractionAnalytics | None
    hits: list[CategoryHitRow]
    pii_spans: list[PiiSpanRow]
    auto_answers: list[AutoAnswerRow]
    sources: dict[tuple[str, int], Segment | Message]  # the units, for quoting hits through the content gate


def visible_interaction(*, session: Session, principal: Principal, interaction_id: int) -> Interaction:
    """The interaction if the principal may see it (the interactions feature's one visibility rule: agents on
    any leg, their coaches); NotFound otherwise."""
    return interactions.get_interaction(session=session, interaction_id=interaction_id, principal=principal)


def get_analytics(*, session: Session, principal: Principal, interaction_id: int) -> InteractionAnalyticsView:
    interaction = visible_interaction(session=session, principal=principal, interaction_id=interaction_id)
    analytics = session.exec(select(InteractionAnalytics)
                             .where(InteractionAnalytics.interaction_id == interaction_id)).first()
    hits = list(session.exec(select(CategoryHitRow).where(CategoryHitRow.interaction_id == interaction_id)
                             .order_by(col(CategoryHitRow.id))).all())
    spans = list(session.exec(select(PiiSpanRow).where(PiiSpanRow.interaction_id == interaction_id)
                              .order_by(col(PiiSpanRow.id))).all())
    answers = list(session.exec(select(AutoAnswerRow).where(AutoAnswerRow.interaction_id == interaction_id)
                                .order_by(col(AutoAnswerRow.question_id))).all())
    sources: dict[tuple[str, int], Segment | Message] = {}
    for segment in session.exec(select(Segment).where(Segment.interaction_id == interaction_id)).all():
        assert segment.id is not None
        sources[("segment", segment.id)] = segment
    for message in session.exec(select(Message).where(Message.interaction_id == interaction_id)).all():
        assert message.id is not None
        sources[("message", message.id)] = message
    return InteractionAnalyticsView(interaction, analytics, hits, spans, answers, sources)


@dataclass
class InteractionFilter:
    category: str | None = None
    sentiment_min: float | None = None
    sentiment_max: float | None = None
    side: str = "customer"  # which roll-up the sentiment range applies to: customer | agent | overall
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    auto_score_min: float | None = None
    auto_score_max: float | None = None
    metric: str | None = None  # e.g. "hold_seconds", with metric_min / metric_max
    metric_min: float | None = None
    metric_max: float | None = None


AnalyticsPage = Page[tuple[Interaction, InteractionAnalytics]]


def list_interactions(*, session: Session, principal: Principal, filters: InteractionFilter, page: int = 1,
                      per_page: int = 50) -> AnalyticsPage:
    """Analysed interactions the principal may see, filtered by category, sentiment range, auto-QA score,
    channel and date (UTC days, inclusive), newest first. Sampling rules can call this too."""
    column = {"customer": InteractionAnalytics.sentiment_customer, "agent": InteractionAnalytics.sentiment_agent,
              "overall": InteractionAnalytics.sentiment_overall}.get(filters.side)
    if column is None:
        raise InvalidInput(f"side must be customer, agent or overall, not {filters.side!r}")
    query = select(Interaction, InteractionAnalytics).join(
        InteractionAnalytics, col(InteractionAnalytics.interaction_id) == col(Interaction.id))
    visible = interactions.visible_clause(session=session, principal=principal)
    if visible is not None:
        query = query.where(visible)
    if filters.category:
        hit = select(CategoryHitRow.interaction_id).where(CategoryHitRow.category == filters.category)
        query = query.where(col(Interaction.id).in_(hit))
    if filters.sentiment_min is not None:
        query = query.where(col(column) >= filters.sentiment_min)
    if filters.sentiment_max is not None:
        query = query.where(col(column) <= filters.sentiment_max)
    if filters.auto_score_min is not None:
        query = query.where(col(InteractionAnalytics.auto_score) >= filters.auto_score_min)
    if filters.auto_score_max is not None:
        query = query.where(col(InteractionAnalytics.auto_score) <= filters.auto_score_max)
    if filters.metric and (filters.metric_min is not None or filters.metric_max is not None):
        if not METRIC_NAME.fullmatch(filters.metric):
            raise InvalidInput(f"metric must be a name like hold_seconds, not {filters.metric!r}")
        value = col(InteractionAnalytics.metrics)[filters.metric].as_float()
        if filters.metric_min is not None:
            query = query.where(value >= filters.metric_min)
        if filters.metric_max is not None:
            query = query.where(value <= filters.metric_max)
    if filters.channel:
        query = query.where(Interaction.channel == filters.channel)
    if filters.date_from:
        query = query.where(col(Interaction.started_at) >= datetime.combine(filters.date_from, time.min, tzinfo=UTC))
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(col(Interaction.started_at) < end)
    rows = paginate(query.order_by(col(Interaction.started_at).desc(), col(Interaction.id).desc()), page=page,
                    per_page=per_page, session=session)
    return rows.map(lambda row: (row[0], row[1]))



def category_counts(*, session: Session, principal: Principal, since: datetime) -> dict[str, int]:
    """How many visible interactions started since `since` have each category, plus "negative" (customer
    sentiment at or below VADER's negative threshold)."""
    visible = interactions.visible_clause(session=session, principal=principal)
    scoped = select(Interaction.id).where(col(Interaction.started_at) >= since)
    if visible is not None:
        scoped = scoped.where(visible)
    rows = session.exec(select(CategoryHitRow.category, func.count(func.distinct(CategoryHitRow.interaction_id)))
                        .where(col(CategoryHitRow.interaction_id).in_(scoped))
                        .group_by(col(CategoryHitRow.category))).all()
    counts = {category: int(n) for category, n in rows}
    counts["negative"] = int(session.exec(select(func.count()).select_from(InteractionAnalytics).where(
        col(InteractionAnalytics.interaction_id).in_(scoped),
        col(InteractionAnalytics.sentiment_customer) <= sentiment.NEGATIVE_BELOW)).one())
    return counts


def weekly_sentiment(*, session: Session, principal: Principal, since: datetime) -> list[tuple[str, float, int]]:
    """(ISO week, mean customer sentiment, interactions) for visible analysed interactions since `since`."""
    visible = interactions.visible_clause(session=session, principal=principal)
    query = (select(Interaction.started_at, InteractionAnalytics.sentiment_customer)
             .join(InteractionAnalytics, col(InteractionAnalytics.interaction_id) == col(Interaction.id))
             .where(col(Interaction.started_at) >= since, col(InteractionAnalytics.sentiment_customer).is_not(None)))
    if visible is not None:
        query = query.where(visible)
    weeks: dict[str, list[float]] = {}
    for started_at, value in session.exec(query).all():
        year, week, _ = started_at.isocalendar()
        weeks.setdefault(f"{year}-W{week:02d}", []).append(float(value or 0.0))
    return [(week, round(sum(v) / len(v), 3), len(v)) for week, v in sorted(weeks.items())]


def category_names() -> list[tuple[str, str]]:
    return [(rule.name, rule.label or rule.name) for rule in default_categories().rules.values()]


# ---------------------------------------------------------------- reviews and agreement

ANSWER_VALUES = ("yes", "no", "na")


def record_review(*, session: Session, actor: Principal, interaction_id: int, question_id: str, human_value: str,
                  evaluation_id: int | None = None, comment: str | None = None) -> AutoAnswerReview:
    """Record that an evaluator accepted (same value) or overrode (different value) the auto answer to
    `question_id`; one review per reviewer and question (a later call updates it). Audited.

    Raises NotFound when there is no auto answer (or the interaction is not visible), InvalidInput for
    a value other than yes/no/na.
    """
    if human_value not in ANSWER_VALUES:
        raise InvalidInput(f"answer must be one of {', '.join(ANSWER_VALUES)}")
    visible_interaction(session=session, principal=actor, interaction_id=interaction_id)
    answer = session.exec(select(AutoAnswerRow).where(AutoAnswerRow.interaction_id == interaction_id,
                                                      AutoAnswerRow.question_id == question_id)).first()
    if answer is None:
        raise NotFound(f"no auto answer for question {question_id!r} on interaction {interaction_id}")
    review = session.exec(select(AutoAnswerReview).where(
        AutoAnswerReview.interaction_id == interaction_id, AutoAnswerReview.question_id == question_id,
        AutoAnswerReview.reviewer_id == actor.user_id)).first()
    before = None if review is None else {"human_value": review.human_value, "status": review.status}
    review = review or AutoAnswerReview(interaction_id=interaction_id, question_id=question_id,
                                        reviewer_id=actor.user_id, auto_value=answer.value, human_value=human_value,
                                        status="accepted")
    review.auto_value, review.human_value = answer.value, human_value
    review.status = "accepted" if human_value == answer.value else "overridden"
    review.evaluation_id, review.comment, review.reviewed_at = evaluation_id, comment, utcnow()
    session.add(review)
    session.flush()
    audit.record(session=session, actor=actor, action=f"auto_answer.{review.status}", record_type="interaction",
                 record_id=interaction_id, before=before,
                 after={"question_id": question_id, "auto_value": answer.value, "human_value": human_value,
                        "evaluation_id": evaluation_id})
    session.commit()
    return review


def reviews_by(*, session: Session, interaction_id: int, reviewer_id: int) -> list[AutoAnswerReview]:
    return list(session.exec(select(AutoAnswerReview).where(AutoAnswerReview.interaction_id == interaction_id,
                                                            AutoAnswerReview.reviewer_id == reviewer_id)).all())


def agreement_report(*, session: Session, extra_pairs: Sequence[tuple[str, str, str]] = ()) -> list[QuestionAgreement]:
    """Per question: accuracy and Cohen's kappa between auto answers and the evaluators' answers.

    Uses the recorded reviews; `extra_pairs` ((question_id, auto, human)) lets the evaluations feature
    add answers given outside the review flow.
    """
    rows = [(r.question_id, r.auto_value, r.human_value)
            for r in session.exec(select(AutoAnswerReview)).all()]
    return agreement_by_question([*rows, *extra_pairs])

