"""The coaching tables declared once: the assignments list (the page and its CSV) and the before/after figures
(CSV). Files go through core.export, so cells that a spreadsheet would run as a formula are quoted."""

from collections.abc import Callable

from markupsafe import Markup

from app.coaching.effectiveness import AssignmentEffect, Comparison
from app.coaching.models import CoachingAssignment
from app.core.export import Column

STATUS_LABELS = {"assigned": "Assigned", "in_progress": "In progress", "completed": "Completed",
                 "verified": "Verified", "cancelled": "Cancelled"}


def assignment_columns(names: dict[int, str], *, overdue_ids: set[int]) -> list[Column[CoachingAssignment]]:
    """The assignments list: the screen shows the first eight, the CSV every column but the screen-only ones."""
    def topic(a: CoachingAssignment) -> Markup:
        cell = Markup('<a href="/coaching/{}">{}</a>').format(a.id, a.topic_title)
        if a.question_ids:
            cell += Markup(' <span class="muted">{}</span>').format(", ".join(a.question_ids))
        return cell

    def due(a: CoachingAssignment) -> Markup:
        cell = Markup("{}").format(a.due_date or "")
        return cell + Markup(' <span class="badge bad">overdue</span>') if a.id in overdue_ids else cell

    return [
        Column("#", lambda a: a.id, name="id", link=lambda a: f"/coaching/{a.id}"),
        Column("Topic", lambda a: a.topic_title, html=topic),
        Column("Question ids", lambda a: " ".join(a.question_ids), screen=False),
        Column("Agent", lambda a: names.get(a.agent_id, a.agent_id)),
        Column("Coach", lambda a: names.get(a.coach_id, "") if a.coach_id else "", format=lambda v: v or "—"),
        Column("Status", lambda a: a.status, html=lambda a: Markup(
            '<span class="badge status-{}">{}</span>').format(a.status, STATUS_LABELS.get(a.status, a.status))),
        Column("Overdue", lambda a: "yes" if a.id in overdue_ids else "no", screen=False),
        Column("Due", lambda a: a.due_date, name="due_date", html=due),
        Column("Source", lambda a: a.source_kind, name="source_kind", format=lambda v: str(v).replace("_", " ")),
        Column("Source id", lambda a: a.source_id, screen=False),
        Column("Created", lambda a: a.created_at, name="created_at", screen=False),
        Column("Completed", lambda a: a.completed_at, name="completed_at", screen=False),
        Column("Verified", lambda a: a.verified_at, name="verified_at", screen=False),
        Column("Acknowledged", lambda a: a.acknowledged_at, name="acknowledged_at",
               format=lambda v: "yes" if v else "not yet"),
        Column("Acknowledgement comment", lambda a: a.acknowledgement_comment, screen=False),
        Column("Goal", lambda a: a.goal, screen=False)]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _figures(prefix: str,
             pick: Callable[[AssignmentEffect], Comparison | None]) -> list[Column[AssignmentEffect]]:
    """The seven before/after figures of one comparison (topic or overall); empty cells when it is missing."""
    def column(part: str, read: Callable[[Comparison], object]) -> Column[AssignmentEffect]:
        def value(effect: AssignmentEffect) -> object:
            comparison = pick(effect)
            return "" if comparison is None else read(comparison)
        return Column(f"{prefix}_{part}", value)

    return [column("before_n", lambda c: c.before_n), column("before_mean", lambda c: _round(c.before_mean)),
            column("after_n", lambda c: c.after_n), column("after_mean", lambda c: _round(c.after_mean)),
            column("change", lambda c: _round(c.change)), column("p_value", lambda c: _round(c.p_value, 4)),
            column("verdict", lambda c: str(c.verdict))]


def effectiveness_columns(names: dict[int, str]) -> list[Column[AssignmentEffect]]:
    """Before/after figures of each completed assignment, for its CSV."""
    return [
        Column("assignment_id", lambda e: e.assignment_id),
        Column("agent", lambda e: names.get(e.agent_id, e.agent_id)),
        Column("coach", lambda e: names.get(e.coach_id, "") if e.coach_id else ""),
        Column("topic", lambda e: e.topic_title),
        Column("status", lambda e: e.status),
        Column("improved", lambda e: "yes" if e.primary.improved else ("no" if e.primary.measured else "")),
        *_figures("topic", lambda e: e.topic), *_figures("overall", lambda e: e.overall)]
