"""Pages: the analytics panel of an interaction (a partial the interaction page embeds, and a page of
its own), the list of interactions by category/sentiment, and the agreement report (admins)."""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app.auth.deps import SessionDep, WebAdmin, WebPrincipal, web_require_roles
from app.core.charts import Chart, Series, bar_chart, line_chart
from app.core.errors import InvalidInput
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import NavItem, render
from app.interactions import content
from app.interactions.models import Interaction
from app.nlp import service
from app.nlp.agreement import QuestionAgreement
from app.nlp.models import InteractionAnalytics
from app.nlp.sentiment import label

router = APIRouter()

NAV = [
    NavItem("Analytics", "/analytics", tuple(Role), order=40),
    NavItem("Auto-QA agreement", "/admin/auto-qa-agreement", (Role.ADMIN,), order=90),
]

WebReviewer = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR))]

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 160, 24
CONTEXT_CHARS = 60


@dataclass
class HitView:
    category: str
    label: str
    speaker: str
    before: str
    text: str
    after: str
    start_time: float | None
    source: str


def _chart(timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """Point coordinates for the inline SVG: x by time (calls) or by order (messages), y by sentiment."""
    if not timeline:
        return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "series": [], "zero_y": CHART_HEIGHT / 2}
    by_time = any(p["end"] > 0 for p in timeline) and timeline[0].get("source_type") == "segment"
    xs = [float(p["start"]) if by_time else float(i) for i, p in enumerate(timeline)]
    span = (max(xs) - min(xs)) or 1.0
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD

    def y_of(value: float) -> float:
        return round(CHART_PAD + (1 - (value + 1) / 2) * inner_h, 1)

    series = []
    for side, css in (("agent", "agent"), ("customer", "customer")):
        points = [{"x": round(CHART_PAD + (x - min(xs)) / span * inner_w, 1), "y": y_of(float(p["sentiment"])),
                   "title": f"{side} at {p['start']:g}s: {p['sentiment']:+.2f}" if by_time
                   else f"{side} message {i + 1}: {p['sentiment']:+.2f}"}
                  for i, (x, p) in enumerate(zip(xs, timeline, strict=True))
                  if p["speaker"] == side and p["sentiment"] is not None]  # None: not available (language)
        if points:
            series.append({"side": side, "css": css, "points": points,
                           "path": " ".join(f"{pt['x']},{pt['y']}" for pt in points)})
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "series": series, "zero_y": y_of(0.0),
            "top_y": y_of(1.0), "bottom_y": y_of(-1.0), "axis": "time (s)" if by_time else "message order"}


def _hit_views(view: service.InteractionAnalyticsView, gate: content.ContentGate = content.REDACTED) -> list[HitView]:
    """Each category hit quoted in context, through the content gate (redacted unless the gate is open)."""
    labels = dict(service.category_names())
    out = []
    for hit in view.hits:
        source = view.sources.get((hit.source_type, hit.source_id))
        quote = gate.excerpt(source, hit.start_char, hit.end_char, context=CONTEXT_CHARS) if source is not None \
            else content.Excerpt("", gate.quote(hit.text) or "", "")
        out.append(HitView(hit.category, labels.get(hit.category, hit.category), hit.speaker, quote.before,
                           quote.text, quote.after, hit.start_time, f"{hit.source_type} {hit.source_id}"))
    return out


def _answer_views(view: service.InteractionAnalyticsView,
                  gate: content.ContentGate = content.REDACTED) -> list[dict[str, Any]]:
    """Auto answers as the panel shows them: their evidence quotes through the content gate."""
    return [{**answer.model_dump(), "evidence": gate.evidence(answer.evidence, view.sources)}
            for answer in view.auto_answers]


def panel_context(view: service.InteractionAnalyticsView) -> dict[str, Any]:
    """Template context for `{% include "nlp/panel.html" %}` (the interaction page can merge it in)."""
    a = view.analytics
    return {"view": view, "a": a, "chart": _chart(a.timeline if a else []), "hits": _hit_views(view),
            "auto_answers": _answer_views(view),
            "label": label, "pii_kinds": sorted({s.kind for s in view.pii_spans})}


@router.get("/interactions/{interaction_id}/analytics/panel", response_class=HTMLResponse)
def analytics_panel(request: Request, interaction_id: int, principal: WebPrincipal, session: SessionDep) -> Response:
    """The panel alone (no page chrome), for the interaction page to include."""
    view = service.get_analytics(session=session, principal=principal, interaction_id=interaction_id)
    return render(request, "nlp/panel.html", panel_context(view), principal=principal)


@router.get("/analytics/interactions/{interaction_id}", response_class=HTMLResponse)
def analytics_page(request: Request, interaction_id: int, principal: WebPrincipal, session: SessionDep) -> Response:
    view = service.get_analytics(session=session, principal=principal, interaction_id=interaction_id)
    reviews = {r.question_id: r for r in service.reviews_by(session=session, interaction_id=interaction_id,
                                                             reviewer_id=principal.user_id)}
    return render(request, "nlp/interaction.html", {**panel_context(view), "reviews": reviews,
                                                    "can_review": principal.has(Role.ADMIN, Role.EVALUATOR)},
                  principal=principal)


@router.post("/analytics/interactions/{interaction_id}/review", response_class=HTMLResponse)
def review_form(interaction_id: int, principal: WebReviewer, session: SessionDep,
                question_id: Annotated[str, Form()] = "", value: Annotated[str, Form()] = "") -> Response:
    service.record_review(session=session, actor=principal, interaction_id=interaction_id, question_id=question_id,
                          human_value=value)
    return RedirectResponse(f"/analytics/interactions/{interaction_id}", status_code=303)


def _number(name: str, raw: str | None, low: float | None = None, high: float | None = None) -> float | None:
    """A number from a filter form field: blank means no filter."""
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a number", details=[{"loc": name, "msg": "not a number"}]) from exc
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise InvalidInput(f"{name} is out of range", details=[{"loc": name, "msg": "out of range"}])
    return value


def _day(name: str, raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)", details=[{"loc": name, "msg": "not a date"}]) from exc


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


Row = tuple[Interaction, InteractionAnalytics]
ANALYTICS_COLUMNS: list[Column[Row]] = [
    Column("#", lambda r: r[0].id, name="interaction_id", link=lambda r: f"/analytics/interactions/{r[0].id}"),
    Column("Channel", lambda r: r[0].channel),
    Column("Started", lambda r: r[0].started_at, name="started_at"),
    Column("Customer sentiment", lambda r: r[1].sentiment_customer, html=lambda r: Markup(
        '<span class="nlp-{}">{}</span>').format(label(r[1].sentiment_customer), _signed(r[1].sentiment_customer))),
    Column("Start → end", lambda r: f"{_signed(r[1].customer_start)} → {_signed(r[1].customer_end)}", csv=False),
    Column("Customer start", lambda r: r[1].customer_start, screen=False),
    Column("Customer end", lambda r: r[1].customer_end, screen=False),
    Column("Agent sentiment", lambda r: r[1].sentiment_agent, screen=False),
    Column("Auto-QA", lambda r: r[1].auto_score, name="auto_score",
           format=lambda v: "–" if v is None else f"{v * 100:.0f}%"),
    Column("Categories", lambda r: ", ".join(r[1].categories), html=lambda r: Markup(" ").join(
        Markup('<span class="badge nlp-cat">{}</span>').format(c) for c in r[1].categories))]


@router.get("/analytics", response_class=HTMLResponse)
def analytics_list(request: Request, principal: WebPrincipal, session: SessionDep,
                   category: str = "", sentiment_min: str = "", sentiment_max: str = "", side: str = "customer",
                   channel: str = "", date_from: str = "", date_to: str = "", auto_score_min: str = "",
                   auto_score_max: str = "", metric: str = "", metric_min: str = "", metric_max: str = "",
                   page: Annotated[int, Query(ge=1)] = 1) -> Response:
    """Filters come from a GET form, so blank fields mean "no filter"."""
    filters = service.InteractionFilter(
        category=category or None, sentiment_min=_number("sentiment_min", sentiment_min, -1, 1),
        sentiment_max=_number("sentiment_max", sentiment_max, -1, 1), side=side or "customer",
        channel=channel or None, date_from=_day("date_from", date_from), date_to=_day("date_to", date_to),
        auto_score_min=_number("auto_score_min", auto_score_min, 0, 1),
        auto_score_max=_number("auto_score_max", auto_score_max, 0, 1), metric=metric or None,
        metric_min=_number("metric_min", metric_min), metric_max=_number("metric_max", metric_max))
    page, per_page = page_window(request, page, 50)
    result = service.list_interactions(session=session, principal=principal, filters=filters, page=page,
                                       per_page=per_page)
    if wants_csv(request):
        return table_csv("analytics.csv", result.items, ANALYTICS_COLUMNS)
    query = {k: v for k, v in {"category": category, "sentiment_min": sentiment_min, "sentiment_max": sentiment_max,
                               "side": side if side != "customer" else "", "channel": channel,
                               "date_from": date_from, "date_to": date_to, "auto_score_min": auto_score_min,
                               "auto_score_max": auto_score_max, "metric": metric, "metric_min": metric_min,
                               "metric_max": metric_max}.items() if v}
    return render(request, "nlp/list.html", {
        "result": result, "columns": ANALYTICS_COLUMNS, "filters": query, "categories": service.category_names(),
        "charts": dashboard_charts(session=session, principal=principal)}, principal=principal)


def dashboard_charts(*, session: Session, principal: Principal, weeks: int = 12) -> list[Chart]:
    """Customer sentiment per week and the top categories of the last 30 days, within the principal's scope."""
    charts = []
    trend = service.weekly_sentiment(session=session, principal=principal, since=utcnow() - timedelta(weeks=weeks))
    if trend:
        chart = line_chart("Customer sentiment per week (−1 negative … +1 positive)", [w for w, _, _ in trend],
                           [Series("Mean customer sentiment", [v for _, v, _ in trend])], y_min=-1, y_max=1,
                           digits=2, label_header="Week")
        chart.headers.append("Interactions")
        for row, (_, _, n) in zip(chart.rows, trend, strict=True):
            row.append(str(n))
        charts.append(chart)
    counts = service.category_counts(session=session, principal=principal, since=utcnow() - timedelta(days=30))
    labels = dict(service.category_names())
    top = sorted(((n, name) for name, n in counts.items() if name != "negative" and n), reverse=True)[:8]
    if top:
        charts.append(bar_chart("Top categories, last 30 days (interactions)", [labels.get(name, name) for _, name in top],
                                [Series("Interactions", [float(n) for n, _ in top])], label_header="Category",
                                width=760))
    return charts


@router.get("/admin/auto-qa-agreement", response_class=HTMLResponse)
def agreement_page(request: Request, principal: WebAdmin, session: SessionDep) -> Response:
    report = service.agreement_report(session=session)
    if wants_csv(request):
        return table_csv("auto-qa-agreement.csv", report, AGREEMENT_COLUMNS)
    return render(request, "nlp/agreement.html", {"report": report, "columns": AGREEMENT_COLUMNS}, principal=principal)


# Auto-QA agreement per question, on screen (rates in words) and in the export (the raw figures).
AGREEMENT_COLUMNS: list[Column[QuestionAgreement]] = [
    Column("Question", lambda q: q.question_id),
    Column("Answers", lambda q: q.n),
    Column("Agreed", lambda q: q.agreed),
    Column("Accuracy", lambda q: q.accuracy, format=lambda a: "–" if a is None else f"{a * 100:.0f}%"),
    Column("Kappa", lambda q: q.kappa, format=lambda k: "–" if k is None else f"{k:.2f}"),
    Column("Reading", lambda q: q.trust),
    Column("Auto → human", lambda q: ", ".join(f"{k}: {v}" for k, v in q.confusion.items()), name="auto_to_human")]
