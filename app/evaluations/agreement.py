"""Agreement over time: Krippendorff's alpha per scorecard question and period, with its bootstrap interval.

Units are closed calibration sessions (one interaction each) of one scorecard, grouped by the month or
quarter they were closed in; raters are the evaluators (gold excluded), N/A is missing. Yes/no and choice
questions are nominal, scales ordinal (`calibration.question_ratings`). The 95 % interval resamples units
(`stats.krippendorff_alpha_interval`). A period with fewer than `stats.MIN_UNITS` pairable units says "too
few units" instead of a number; one where every rating was the same says "no variation" (alpha is 0/0:
perfect but uninformative agreement).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from app.core import charts, stats
from app.core.timeutil import as_utc
from app.evaluations import calibration
from app.evaluations.models import CalibrationSession
from app.scorecards import service as scorecards

Period = Literal["month", "quarter"]
RESAMPLES = 1000  # vectorised (stats.bootstrap_alphas): a few ms per question and period


def period_of(moment: datetime, period: Period) -> str:
    moment = as_utc(moment)
    if period == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    return f"{moment.year}-{moment.month:02d}"


@dataclass(frozen=True)
class AlphaCell:
    """Alpha of one question in one period; `note` replaces the number when there is none to show."""

    interval: stats.Interval
    raters: int
    note: str | None

    @property
    def alpha(self) -> float | None:
        return None if self.note else self.interval.estimate


@dataclass(frozen=True)
class QuestionAgreement:
    question_id: str
    text: str
    level: str
    cells: dict[str, AlphaCell]  # period label → cell


@dataclass
class AgreementReport:
    scorecard_id: int | None
    period: Period
    periods: list[str] = field(default_factory=list)
    questions: list[QuestionAgreement] = field(default_factory=list)


def _cell(rows: list[CalibrationSession], question_id: str) -> tuple[str, AlphaCell]:
    level, data = calibration.question_ratings(rows, question_id)
    interval = stats.krippendorff_alpha_interval(data, level=level, resamples=RESAMPLES)
    note = stats.TOO_FEW_UNITS if interval.n < stats.MIN_UNITS else stats.alpha_undefined_reason(data)
    return level, AlphaCell(interval, len(data), note)


def default_scorecard_id(*, session: Session) -> int | None:
    """The scorecard of the most recently closed calibration session."""
    rows = calibration.closed_sessions(session=session)
    if not rows:
        return None
    return scorecards.get_version(session=session, version_id=rows[-1].scorecard_version_id).scorecard_id


def question_agreement(*, session: Session, scorecard_id: int | None, period: Period = "month") -> AgreementReport:
    """Alpha with its interval for every scored question of the scorecard (the questions seen in its closed
    sessions, in form order) and every period that has a closed session, oldest first."""
    report = AgreementReport(scorecard_id=scorecard_id, period=period)
    if scorecard_id is None:
        return report
    rows = calibration.closed_sessions(session=session, scorecard_id=scorecard_id)
    by_period: dict[str, list[CalibrationSession]] = {}
    questions: dict[str, str] = {}
    for row in rows:
        assert row.closed_at is not None
        by_period.setdefault(period_of(row.closed_at, period), []).append(row)
        for question in (row.results or {}).get("questions", []):
            questions.setdefault(question["question_id"], question.get("text") or question["question_id"])
    report.periods = sorted(by_period)
    for question_id, text in questions.items():
        cells = {}
        level = "nominal"
        for label in report.periods:
            level, cells[label] = _cell(by_period[label], question_id)
        report.questions.append(QuestionAgreement(question_id, text, level, cells))
    return report


def chart(question: QuestionAgreement, periods: list[str]) -> charts.Chart:
    """Alpha over periods with its 95 % band; periods without a number are gaps."""
    cells = [question.cells[p] for p in periods]
    usable = [c if c.note is None else None for c in cells]
    series = charts.Series("alpha", [c.interval.estimate if c else None for c in usable],
                           low=[c.interval.low if c else None for c in usable],
                           high=[c.interval.high if c else None for c in usable])
    # 0.667: Krippendorff's lowest acceptable alpha for tentative conclusions (0.8 for firm ones)
    lowest = min([v for v in series.values + (series.low or []) if v is not None], default=0.0)
    y_min = 0.0 if lowest >= 0 else (-1.0 if lowest >= -1 else lowest)  # round ticks; alpha may go below -1
    drawn = charts.line_chart(f"Krippendorff's alpha: {question.text}", periods, [series], y_min=y_min, y_max=1.0,
                              digits=2, target=0.667, width=480, height=200, label_header="Period")
    drawn.headers = ["Period", "alpha", "95 % low", "95 % high", "units"]
    drawn.rows = [[p, *(_text(v) for v in (c.alpha, c.interval.low if c.alpha is not None else None,
                                           c.interval.high if c.alpha is not None else None)), str(c.interval.n)]
                  if c.note is None else [p, c.note, "", "", str(c.interval.n)] for p, c in zip(periods, cells, strict=True)]
    return drawn


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


CSV_HEADERS = ["question_id", "question", "level", "period", "alpha", "ci95_low", "ci95_high", "units", "raters",
               "note"]


def csv_rows(report: AgreementReport) -> list[list[object]]:
    out: list[list[object]] = []
    for question in report.questions:
        for label in report.periods:
            cell = question.cells[label]
            show = cell.note is None
            out.append([question.question_id, question.text, question.level, label,
                        _round(cell.interval.estimate if show else None),
                        _round(cell.interval.low if show else None), _round(cell.interval.high if show else None),
                        cell.interval.n, cell.raters, cell.note or ""])
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
