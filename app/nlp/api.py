"""JSON endpoints: an interaction's analytics, re-running the analysis, reviewing auto answers, the
filtered list of analysed interactions, and the agreement report."""

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.auth.deps import (
    AdminPrincipal,
    CurrentPrincipal,
    EvaluatorPrincipal,
    QueueDep,
    SessionDep,
)
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.listing import ListResponse, PageNumber, PerPage
from app.interactions import content
from app.nlp import service

router = APIRouter(prefix="/api", tags=["analytics"], responses=STANDARD_ERRORS)



class SentimentPublic(BaseModel):
    overall: float | None
    agent: float | None
    customer: float | None
    customer_start: float | None
    customer_end: float | None


class CategoryHitPublic(BaseModel):
    category: str
    phrase: str
    source_type: str
    source_id: int
    speaker: str
    start_char: int
    end_char: int
    text: str
    start_time: float | None
    end_time: float | None


class PiiSpanPublic(BaseModel):
    source_type: str
    source_id: int
    kind: str
    start_char: int
    end_char: int
    confidence: float
    detector: str


class AutoAnswerPublic(BaseModel):
    question_id: str
    value: str
    confidence: float
    summary: str
    evidence: list[dict[str, Any]]
    rule: dict[str, Any]
    computed_at: datetime


class AnalyticsPublic(BaseModel):
    interaction_id: int
    analyzed: bool
    analyzed_at: datetime | None = None
    pipeline: str | None = None
    sentiment: SentimentPublic | None = None
    categories: list[str] = []
    timeline: list[dict[str, Any]] = []
    hits: list[CategoryHitPublic] = []
    pii_spans: list[PiiSpanPublic] = []
    auto_answers: list[AutoAnswerPublic] = []


class JobRef(BaseModel):
    job_id: int
    status: str


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    value: str = Field(pattern="^(yes|no|na)$")
    evaluation_id: int | None = None
    comment: str | None = Field(default=None, max_length=2000)


class ReviewPublic(BaseModel):
    interaction_id: int
    question_id: str
    auto_value: str
    human_value: str
    status: str
    reviewed_at: datetime | None


class AgreementPublic(BaseModel):
    question_id: str
    n: int
    agreed: int
    accuracy: float | None
    kappa: float | None
    trust: str
    confusion: dict[str, int]


class InteractionRowPublic(BaseModel):
    interaction_id: int
    channel: str
    started_at: datetime
    agent_id: int | None
    sentiment_customer: float | None
    sentiment_overall: float | None
    auto_score: float | None
    categories: list[str]


def _hit_public(view: service.InteractionAnalyticsView, hit: Any, gate: content.ContentGate) -> CategoryHitPublic:
    """A category hit whose quoted `text` comes through the content gate (offsets stay those of the original)."""
    source = view.sources.get((hit.source_type, hit.source_id))
    quoted = gate.excerpt(source, hit.start_char, hit.end_char).text if source is not None else gate.quote(hit.text)
    return CategoryHitPublic.model_validate({**hit.model_dump(), "text": quoted or ""})


def _public(view: service.InteractionAnalyticsView, gate: content.ContentGate = content.REDACTED) -> AnalyticsPublic:
    """The API shape of an interaction's analytics; every quote goes through the content gate."""
    assert view.interaction.id is not None
    a = view.analytics
    if a is None:
        return AnalyticsPublic(interaction_id=view.interaction.id, analyzed=False)
    return AnalyticsPublic(
        interaction_id=view.interaction.id, analyzed=True, analyzed_at=a.analyzed_at, pipeline=a.pipeline,
        sentiment=SentimentPublic(overall=a.sentiment_overall, agent=a.sentiment_agent, customer=a.sentiment_customer,
                                  customer_start=a.customer_start, customer_end=a.customer_end),
        categories=a.categories, timeline=a.timeline,
        hits=[_hit_public(view, h, gate) for h in view.hits],
        pii_spans=[PiiSpanPublic.model_validate(s, from_attributes=True) for s in view.pii_spans],
        auto_answers=[AutoAnswerPublic.model_validate({**x.model_dump(), "evidence": gate.evidence(x.evidence, view.sources)})
                      for x in view.auto_answers])


@router.get("/interactions/{interaction_id}/analytics", responses=error_responses(404))
def interaction_analytics(interaction_id: int, principal: CurrentPrincipal, session: SessionDep) -> AnalyticsPublic:
    """Sentiment, categories with their spans, PII spans (offsets only) and auto answers with evidence.
    Agents see only their own interactions, coaches their team's (404 otherwise)."""
    return _public(service.get_analytics(session=session, principal=principal, interaction_id=interaction_id))


@router.post("/interactions/{interaction_id}/analytics/run", status_code=202, responses=error_responses(404))
def run_analysis(interaction_id: int, principal: EvaluatorPrincipal, session: SessionDep,
                 queue: QueueDep) -> JobRef:
    """Queue the analysis again (e.g. after the categories changed)."""
    service.visible_interaction(session=session, principal=principal, interaction_id=interaction_id)
    job = service.enqueue_analysis(queue=queue, session=session, interaction_id=interaction_id)
    assert job.id is not None
    return JobRef(job_id=job.id, status=job.status)


@router.post("/interactions/{interaction_id}/auto-answers/{question_id}/review", responses=error_responses(404))
def review_auto_answer(interaction_id: int, question_id: str, body: ReviewIn, principal: EvaluatorPrincipal,
                       session: SessionDep) -> ReviewPublic:
    """Accept (same value) or override (another value) an auto answer; recorded and audited."""
    review = service.record_review(session=session, actor=principal, interaction_id=interaction_id,
                                   question_id=question_id, human_value=body.value,
                                   evaluation_id=body.evaluation_id, comment=body.comment)
    return ReviewPublic.model_validate(review, from_attributes=True)


@router.get("/analytics/interactions")
def analysed_interactions(
    principal: CurrentPrincipal, session: SessionDep, category: str | None = None,
    sentiment_min: Annotated[float | None, Query(ge=-1, le=1)] = None,
    sentiment_max: Annotated[float | None, Query(ge=-1, le=1)] = None,
    side: Annotated[str, Query(pattern="^(customer|agent|overall)$")] = "customer",
    channel: str | None = None, date_from: date | None = None, date_to: date | None = None,
    auto_score_min: Annotated[float | None, Query(ge=0, le=1)] = None,
    auto_score_max: Annotated[float | None, Query(ge=0, le=1)] = None,
    metric: Annotated[str | None, Query(pattern="^[a-z_][a-z0-9_]{0,99}$")] = None,
    metric_min: float | None = None, metric_max: float | None = None,
    page: PageNumber = 1, per_page: PerPage = 50,
) -> ListResponse[InteractionRowPublic]:
    """Analysed interactions the caller may see, filtered by category, sentiment range, auto-QA score
    (share of yes among yes/no auto answers), a call metric range (e.g. metric=hold_seconds&metric_min=120),
    channel and date."""
    filters = service.InteractionFilter(category=category, sentiment_min=sentiment_min, sentiment_max=sentiment_max,
                                        side=side, channel=channel, date_from=date_from, date_to=date_to,
                                        auto_score_min=auto_score_min, auto_score_max=auto_score_max,
                                        metric=metric or None, metric_min=metric_min, metric_max=metric_max)
    result = service.list_interactions(session=session, principal=principal, filters=filters, page=page,
                                       per_page=per_page)
    return ListResponse.of(result.map(lambda row: InteractionRowPublic(
        interaction_id=row[0].id or 0, channel=row[0].channel, started_at=row[0].started_at, agent_id=row[0].agent_id,
        sentiment_customer=row[1].sentiment_customer, sentiment_overall=row[1].sentiment_overall,
        auto_score=row[1].auto_score, categories=row[1].categories)))


@router.get("/analytics/agreement")
def agreement(principal: AdminPrincipal, session: SessionDep) -> list[AgreementPublic]:
    """Per question: how often auto answers match evaluators' answers (accuracy, Cohen's kappa)."""
    return [AgreementPublic(question_id=q.question_id, n=q.n, agreed=q.agreed, accuracy=q.accuracy, kappa=q.kappa,
                            trust=q.trust, confusion=q.confusion)
            for q in service.agreement_report(session=session)]
