"""CSV exports of coaching assignments and of before/after figures (through core.export, so cells that
a spreadsheet would run as a formula are quoted with a leading apostrophe)."""

from collections.abc import Iterable, Sequence
from typing import Any

from app.coaching.effectiveness import AssignmentEffect, Comparison
from app.coaching.models import CoachingAssignment
from app.core.export import csv_lines


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    return "".join(csv_lines(header, rows))


def assignments_csv(assignments: Sequence[CoachingAssignment], names: dict[int, str], *,
                    overdue_ids: set[int]) -> str:
    header = ["id", "agent", "coach", "topic", "question_ids", "status", "overdue", "due_date", "source_kind",
              "source_id", "created_at", "completed_at", "verified_at", "acknowledged_at", "acknowledgement_comment",
              "goal"]
    return _csv(header, ([
        a.id, names.get(a.agent_id, a.agent_id), names.get(a.coach_id, "") if a.coach_id else "", a.topic_title,
        " ".join(a.question_ids), a.status, "yes" if a.id in overdue_ids else "no", a.due_date, a.source_kind,
        a.source_id, a.created_at, a.completed_at, a.verified_at, a.acknowledged_at, a.acknowledgement_comment,
        a.goal] for a in assignments))


def _figures(c: Comparison | None) -> list[Any]:
    if c is None:
        return ["", "", "", "", "", "", ""]
    return [c.before_n, _round(c.before_mean), c.after_n, _round(c.after_mean), _round(c.change),
            _round(c.p_value, 4), str(c.verdict)]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def effectiveness_csv(effects: Sequence[AssignmentEffect], names: dict[int, str]) -> str:
    parts = ["before_n", "before_mean", "after_n", "after_mean", "change", "p_value", "verdict"]
    header = ["assignment_id", "agent", "coach", "topic", "status", "improved",
              *(f"topic_{p}" for p in parts), *(f"overall_{p}" for p in parts)]
    return _csv(header, ([
        e.assignment_id, names.get(e.agent_id, e.agent_id), names.get(e.coach_id, "") if e.coach_id else "",
        e.topic_title, e.status, "yes" if e.primary.improved else ("no" if e.primary.measured else ""),
        *_figures(e.topic), *_figures(e.overall)] for e in effects))
