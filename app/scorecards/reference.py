"""The reference set a draft form is tested against: the last N scored evaluations of the scorecard (read
through the core hook SCORED_EVALUATIONS, since evaluations build on scorecards), with the form each was
scored on, and the options that choose them (size, date range) and set the pass mark."""


import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from sqlmodel import Session

from app.core.errors import InvalidInput
from app.core.hooks import SCORED_EVALUATIONS, ScoredEvaluationsQuery
from app.scorecards import service
from app.scorecards.schema import ScorecardForm
from app.scorecards.scoring import AnswerInput

DEFAULT_REFERENCE_SIZE = 200
MAX_REFERENCE_SIZE = 1000  # re-scored inline: ~1.4 s of CPU at this size with a few changes
DEFAULT_TARGET = 80.0


@dataclass(frozen=True)
class ReferenceEvaluation:
    """One already-scored evaluation: the form it was scored with and the evaluator's answers."""

    evaluation_id: int
    interaction_id: int
    version_number: int
    form: ScorecardForm
    answers: tuple[AnswerInput, ...]
    submitted_at: datetime | None = None



@dataclass(frozen=True)
class ReferenceOptions:
    """Which evaluations a draft is tested against and the pass mark. `until` is inclusive."""

    limit: int = DEFAULT_REFERENCE_SIZE
    since: date | None = None
    until: date | None = None
    target: float = DEFAULT_TARGET

    def check(self) -> None:
        """Raise InvalidInput naming the bad field."""
        if not 1 <= self.limit <= MAX_REFERENCE_SIZE:
            raise InvalidInput(f"the reference set holds 1 to {MAX_REFERENCE_SIZE} evaluations",
                               details=[{"loc": "limit", "msg": f"must be between 1 and {MAX_REFERENCE_SIZE}"}])
        if not (math.isfinite(self.target) and 0 <= self.target <= 100):
            raise InvalidInput("the target is a score from 0 to 100",
                               details=[{"loc": "target", "msg": "must be between 0 and 100"}])
        if self.since is not None and self.until is not None and self.until < self.since:
            raise InvalidInput("the date range ends before it starts",
                               details=[{"loc": "until", "msg": "must not be before since"}])

    def window(self) -> tuple[datetime | None, datetime | None]:
        since = datetime.combine(self.since, dt_time(), tzinfo=UTC) if self.since else None
        until = datetime.combine(self.until + timedelta(days=1), dt_time(), tzinfo=UTC) if self.until else None
        return since, until

    def as_form(self) -> dict[str, str]:
        """The options as form fields (to carry them from the report to the publish button)."""
        return {"limit": str(self.limit), "since": self.since.isoformat() if self.since else "",
                "until": self.until.isoformat() if self.until else "", "target": f"{self.target:g}"}


def parse_options(*, limit: str = "", since: str = "", until: str = "", target: str = "") -> ReferenceOptions:
    """Options from form fields (blank: the default); InvalidInput naming the field otherwise."""
    def number(name: str, raw: str, kind: type[int] | type[float]) -> Any:
        try:
            return kind(raw.strip())
        except ValueError as exc:
            raise InvalidInput(f"{name} must be a number", details=[{"loc": name, "msg": "not a number"}]) from exc

    def day(name: str, raw: str) -> date | None:
        if not raw.strip():
            return None
        try:
            return date.fromisoformat(raw.strip())
        except ValueError as exc:
            raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)",
                               details=[{"loc": name, "msg": "not a date"}]) from exc

    options = ReferenceOptions(
        limit=number("limit", limit, int) if limit.strip() else DEFAULT_REFERENCE_SIZE,
        since=day("since", since), until=day("until", until),
        target=number("target", target, float) if target.strip() else DEFAULT_TARGET)
    options.check()
    return options


def reference_set(*, session: Session, scorecard_id: int, limit: int = DEFAULT_REFERENCE_SIZE,
                  since: datetime | None = None, until: datetime | None = None) -> list[ReferenceEvaluation]:
    """The last `limit` scored evaluations of the scorecard with the form each was scored on (evaluations
    answers the core hook SCORED_EVALUATIONS: it builds on scorecards, not the reverse)."""
    forms: dict[int, tuple[int, ScorecardForm]] = {}
    out = []
    for evaluation in SCORED_EVALUATIONS.ask(ScoredEvaluationsQuery(session=session, scorecard_id=scorecard_id,
                                                                    limit=limit, since=since, until=until)):
        if evaluation.scorecard_version_id not in forms:
            version = service.get_version(session=session, version_id=evaluation.scorecard_version_id)
            forms[evaluation.scorecard_version_id] = (version.number, service.form_of(version))
        number, form = forms[evaluation.scorecard_version_id]
        out.append(ReferenceEvaluation(
            evaluation_id=evaluation.evaluation_id, interaction_id=evaluation.interaction_id, version_number=number,
            form=form, submitted_at=evaluation.submitted_at,
            answers=tuple(AnswerInput(question_id=a.question_id, value=a.value, na=a.na)
                          for a in evaluation.answers)))
    return out
