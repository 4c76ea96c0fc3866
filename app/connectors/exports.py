"""Scheduled exports to a folder (EARSHOT_CONNECTORS_EXPORT_DIR): evaluations, survey figures and social
SLA attainment as CSV, one file per export and day (`<name>-YYYY-MM-DD.csv`, rewritten by a later run on
the same day). Files are written atomically (a temporary file in the same folder, fsync, rename), so a
reader never sees half a file. Cells go through core.export.csv_lines (no spreadsheet formulas)."""

import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from app.core.export import csv_lines
from app.core.timeutil import utcnow


def write_csv_atomic(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write the CSV next to `path` under a temporary name, fsync it, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = "".join(csv_lines(headers, rows))
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def export_evaluations(*, session: Session, directory: Path, day: str) -> Path | None:
    try:
        from app.evaluations.models import Evaluation
    except ImportError:  # the evaluations feature is not installed
        return None
    rows = session.exec(select(Evaluation).where(col(Evaluation.submitted_at).is_not(None))
                        .order_by(col(Evaluation.id))).all()
    return write_csv_atomic(
        directory / f"evaluations-{day}.csv",
        ["evaluation_id", "interaction_id", "scorecard_id", "agent_id", "evaluator_id", "team_id", "channel",
         "state", "score", "critical_failed", "submitted_at"],
        ([e.id, e.interaction_id, e.scorecard_id, e.agent_id, e.evaluator_id, e.team_id, e.channel, e.state,
          e.score, e.critical_failed, e.submitted_at.isoformat() if e.submitted_at else ""] for e in rows))


def export_survey_figures(*, session: Session, directory: Path, day: str, now: datetime) -> Path:
    from app.surveys.figures import BANDS, survey_figures

    periods = survey_figures(session=session, period="month", until=now, periods=12)
    return write_csv_atomic(
        directory / f"survey-figures-{day}.csv",
        ["period", "start", "end", "invited", "completed", "response_rate",
         *[f"{b}_count" for b in BANDS], *[f"{b}_percent" for b in BANDS]],
        ([p.period, p.start.isoformat(), p.end.isoformat(), p.total.invited, p.total.completed,
          p.total.response_rate, *[p.total.counts[b] for b in BANDS], *[p.total.percents[b] for b in BANDS]]
         for p in periods))


def export_social_sla(*, session: Session, directory: Path, day: str, now: datetime) -> Path:
    from app.social.reports import sla_attainment

    rows = sla_attainment(session=session, now=now)
    return write_csv_atomic(
        directory / f"social-sla-{day}.csv",
        ["platform", "threads", "first_response_met", "first_response_breached", "first_response_pending",
         "follow_up_met", "follow_up_breached", "non_genuine"],
        ([r.platform, r.threads, r.first_met, r.first_breached, r.first_pending, r.follow_met,
          r.follow_breached, r.non_genuine] for r in rows))


def run_exports(*, session: Session, directory: Path, now: datetime | None = None) -> list[Path]:
    """Every export for the day of `now` (default: now, UTC). Returns the files written."""
    now = now or utcnow()
    day = now.strftime("%Y-%m-%d")
    written = [export_evaluations(session=session, directory=directory, day=day),
               export_survey_figures(session=session, directory=directory, day=day, now=now),
               export_social_sla(session=session, directory=directory, day=day, now=now)]
    return [path for path in written if path is not None]
