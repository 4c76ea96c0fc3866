"""An agent's scorecard summary for a period, as a PDF (WeasyPrint): the average score with its 95 % interval
and verdict against the target (or "not enough evaluations to say"), averages per section and per question, the
weekly score trend (the SVG line chart the pages use), the evaluations, their disputes and the agent's coaching
assignments. Fonts are local (DejaVu) and the HTML has no external resources: nothing is fetched."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import can_view_agent, user_names
from app.coaching import queries as coaching_queries
from app.core import charts, stats
from app.core.errors import NotFound
from app.core.security import Principal, Role
from app.core.settings import Settings
from app.core.timeutil import utcnow
from app.core.web import make_templates
from app.evaluations import readings
from app.evaluations import service as evaluations
from app.evaluations.models import Evaluation, EvaluationAnswer, EvaluationDispute

DEFAULT_DAYS = 90
MAX_ASSIGNMENTS = 200


@dataclass
class AverageRow:
    """A section's or a question's average share of points earned (0-100) over the period."""

    key: str
    title: str
    section: str = ""
    earned: float = 0.0
    possible: float = 0.0
    shares: list[float] = field(default_factory=list)
    critical_failures: int = 0

    @property
    def average(self) -> float | None:
        return round(100.0 * self.earned / self.possible, 1) if self.possible else None


@dataclass
class AgentSummary:
    agent: User
    start: date
    end: date  # inclusive
    target: float
    evaluations: list[Evaluation]
    interval: stats.Interval
    verdict: str
    sections: list[AverageRow]
    questions: list[AverageRow]
    chart: charts.Chart | None
    disputes: list[EvaluationDispute]
    assignments: list[Any]
    names: dict[int, str]
    generated_at: datetime

    @property
    def conclusive(self) -> bool:
        return self.interval.conclusive()


def period_of(*, start: date | None, end: date | None, today: date | None = None) -> tuple[date, date]:
    """The period asked for; by default the last DEFAULT_DAYS days up to today (both ends inclusive)."""
    end = end or (today or utcnow().date())
    return (start or end - timedelta(days=DEFAULT_DAYS - 1)), end


def get_visible_agent(*, session: Session, principal: Principal, agent_id: int) -> User:
    """The agent, if this principal may see their records (agents themselves, coaches their team, evaluators,
    admins and executives everyone); NotFound otherwise, exactly as for an unknown id."""
    agent = session.get(User, agent_id)
    if agent is None or Role.AGENT not in agent.role_set or not can_view_agent(
            session=session, principal=principal, agent_id=agent_id):
        raise NotFound(f"agent {agent_id} not found")
    return agent


def build(*, session: Session, principal: Principal, agent_id: int, start: date, end: date,
          target: float = 80.0) -> AgentSummary:
    """Everything the summary shows. Raises NotFound for an agent outside the principal's scope."""
    agent = get_visible_agent(session=session, principal=principal, agent_id=agent_id)
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    rows = [e for e in readings.agent_evaluations(session=session, agent_id=agent_id, since=since, until=until)
            if e.score is not None]
    interval = stats.mean_interval([float(e.score or 0.0) for e in rows])
    sections, questions = _averages(session=session, rows=rows)
    ids = [e.id for e in rows]
    disputes = list(session.exec(select(EvaluationDispute).where(col(EvaluationDispute.evaluation_id).in_(ids))
                                 .order_by(col(EvaluationDispute.raised_at))).all()) if ids else []
    assignments = coaching_queries.list_assignments(session=session, principal=principal, per_page=MAX_ASSIGNMENTS,
                                            filters=coaching_queries.AssignmentFilters(agent_id=agent_id)).items
    people = {e.evaluator_id for e in rows} | {d.resolved_by for d in disputes if d.resolved_by} \
        | {a.coach_id for a in assignments if a.coach_id}
    names = user_names(session=session, ids=people)
    return AgentSummary(agent=agent, start=start, end=end, target=target, evaluations=rows, interval=interval,
                        verdict=stats.compare_to_target(interval, target).value, sections=sections,
                        questions=questions, chart=_trend(rows, target), disputes=disputes,
                        assignments=assignments, names=names, generated_at=utcnow())


def _averages(*, session: Session, rows: list[Evaluation]) -> tuple[list[AverageRow], list[AverageRow]]:
    """Points earned over points possible, per section and per question of the forms used (N/A excluded)."""
    placement: dict[str, tuple[str, str, str]] = {}  # question id → (section id, section title, question text)
    for evaluation in rows:
        for section in evaluations.form_of(session=session, evaluation=evaluation).sections:
            for question in section.questions:
                placement.setdefault(question.id, (section.id, section.title, question.text))
    answers = session.exec(select(EvaluationAnswer).where(
        col(EvaluationAnswer.evaluation_id).in_([e.id for e in rows]),
        col(EvaluationAnswer.possible).is_not(None))).all() if rows else []
    sections: dict[str, AverageRow] = {}
    questions: dict[str, AverageRow] = {}
    for answer in answers:
        if not answer.possible or answer.na:
            continue
        section_id, section_title, text = placement.get(answer.question_id, ("", "", answer.question_id))
        for row in (sections.setdefault(section_id, AverageRow(key=section_id, title=section_title)),
                    questions.setdefault(answer.question_id, AverageRow(key=answer.question_id, title=text,
                                                                        section=section_title))):
            row.earned += answer.earned or 0.0
            row.possible += answer.possible
            row.shares.append(100.0 * (answer.earned or 0.0) / answer.possible)
            row.critical_failures += int(answer.critical_failed)
    order = list(dict.fromkeys(p[0] for p in placement.values()))
    question_order = list(placement)
    return (sorted(sections.values(), key=lambda r: order.index(r.key) if r.key in order else len(order)),
            sorted(questions.values(), key=lambda r: question_order.index(r.key)
                   if r.key in question_order else len(question_order)))


def _trend(rows: list[Evaluation], target: float) -> charts.Chart | None:
    """Weekly average score with its 95 % interval band, against the target."""
    weeks: dict[str, list[float]] = defaultdict(list)
    for evaluation in rows:
        if evaluation.submitted_at is not None:
            year, week, _ = evaluation.submitted_at.isocalendar()
            weeks[f"{year}-W{week:02d}"].append(float(evaluation.score or 0.0))
    if not weeks:
        return None
    dates = [e.submitted_at.date() for e in rows if e.submitted_at is not None]
    labels = charts.iso_weeks(min(dates), max(dates))  # weeks without scores stay on the axis, as gaps
    intervals = [stats.mean_interval(weeks[w]) if w in weeks else None for w in labels]
    return charts.line_chart("Score per week with its 95 % interval (shaded)", labels, [charts.Series(
        "Average score", [i.estimate if i else None for i in intervals], low=[i.low if i else None for i in intervals],
        high=[i.high if i else None for i in intervals])], y_min=0, y_max=100, target=target, label_header="Week")


def render_pdf(*, settings: Settings, summary: AgentSummary) -> bytes:
    from weasyprint import HTML  # imported here: only the PDF routes need Pango loaded

    templates = make_templates(str(settings.frontend_dir / "templates"), settings.display_timezone)
    html = templates.env.get_template("reports/agent_summary.html").render(s=summary, min_n=stats.MIN_N,
                                                                            not_enough=stats.NOT_ENOUGH)
    return bytes(HTML(string=html, base_url=str(settings.frontend_dir)).write_pdf())
