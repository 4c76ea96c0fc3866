"""Test a form version before publishing it: re-score evaluations already made with the draft and say what
would change, so nobody publishes a form that silently moves everybody's scores.

The reference set is the last N scored evaluations of the scorecard (any version; calibration ones left
out), optionally within a date range. The evaluators' answers are the expected results. Each evaluation is
scored twice from the same answers:
- *now*: with the version it was scored on (what everybody sees today);
- *draft*: with the draft. Answers are matched by question id: a question the draft removes drops its
  answer; a question the draft adds has no answer (it earns 0 of 0, like an N/A, and is listed); an answer
  that no longer fits its changed question (an option removed, a scale narrowed, N/A no longer allowed, a
  type change) is dropped and listed; points, weights, options and critical flags of the draft apply.

The report gives the paired mean shift (draft − now) with a t interval (app/stats), both means, how many
evaluations change pass/fail (pass = a score of at least `target` and no critical failure), the biggest
movers, and *what each change is worth*: every change of the draft (a question added, removed or changed,
a section weight) is applied alone to each evaluation's form and the mean score difference it makes is its
effect. Effects of changes that interact (a weight change and a new question in the same section) do not
add up exactly; the difference is shown as "changes combined".

For draft questions with an auto-QA rule, the rule is run on the reference interactions and its answers are
compared with the evaluators' (yes/no questions): the disagreement rate (Wilson interval) and which
evaluations disagree.

A publish needs an explicit "I have reviewed the change" when the shift's interval excludes 0, any
evaluation changes pass/fail or critical result, or (with too few evaluations to say) any score changes at all.

Measured here (2 shared cores): re-scoring 500 evaluations of the voice-call form with 3 changes takes about
0.7-0.8 s of CPU including the database reads, so the report runs inline; the auto-QA rules take 15-30 ms of
CPU per call (the language pipeline), 8-15 s for 500, so they run as a job (`auto_check.start_auto_check`). See bench/formtest.py.

This module owns the re-scoring and the report; what changed between two forms is form_diff.py's, the
reference set and its options reference.py's, the auto-QA check job auto_check.py's.
"""

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session

from app.core import audit, stats
from app.core.errors import Conflict
from app.core.models import JobStatus
from app.core.security import Principal
from app.scorecards import service
from app.scorecards.auto_check import AutoJobState, answers_of, auto_check_key, auto_job, auto_rules_of
from app.scorecards.form_diff import FormChange, apply_change, diff_forms
from app.scorecards.models import ScorecardVersion, VersionStatus
from app.scorecards.reference import DEFAULT_TARGET, ReferenceEvaluation, ReferenceOptions, reference_set
from app.scorecards.schema import ScorecardForm
from app.scorecards.scoring import AnswerError, AnswerInput, ScoreResult, check_answer, score

MOVERS = 10


@dataclass
class EvaluationChange:
    evaluation_id: int
    interaction_id: int
    version_number: int
    old_score: float | None
    new_score: float | None
    old_critical: bool
    new_critical: bool
    old_pass: bool | None
    new_pass: bool | None
    dropped: list[str] = field(default_factory=list)  # answers that no longer fit their changed question
    unanswered: list[str] = field(default_factory=list)  # draft questions shown but without an answer

    @property
    def delta(self) -> float | None:
        if self.old_score is None or self.new_score is None:
            return None
        return round(self.new_score - self.old_score, 2)

    @property
    def changed(self) -> bool:
        return self.old_score != self.new_score or self.old_critical != self.new_critical


@dataclass
class ChangeEffect:
    change: FormChange
    mean_effect: float  # mean score difference (draft − now) this change alone makes, over the paired set
    moved: int  # evaluations whose score this change alone moves
    flips: int  # evaluations whose pass/fail this change alone flips
    answered: int  # reference evaluations with an answer to the question (0 for a new one)


@dataclass
class Disagreement:
    evaluation_id: int
    interaction_id: int
    human: str
    auto: str
    summary: str


@dataclass
class AutoCheck:
    question_id: str
    text: str
    rule: str
    compared: int = 0
    disagreed: int = 0
    could_not_tell: int = 0
    note: str = ""
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def rate(self) -> stats.Interval:
        return stats.wilson_interval(self.disagreed, self.compared)


@dataclass
class FormTestReport:
    draft_number: int
    target: float
    reference_size: int
    evaluations: list[EvaluationChange]
    effects: list[ChangeEffect]
    auto_checks: list[AutoCheck]
    unscored: int = 0  # evaluations with no score now or with the draft (all N/A, nothing left)
    elapsed_seconds: float = 0.0
    auto_job: AutoJobState | None = None  # the auto-QA check job of this reference set, if started

    @property
    def paired(self) -> list[EvaluationChange]:
        return [e for e in self.evaluations if e.delta is not None]

    @property
    def enough(self) -> bool:
        return len(self.paired) >= stats.MIN_N

    @property
    def shift(self) -> stats.Interval:
        return stats.mean_interval([e.delta for e in self.paired if e.delta is not None])

    @property
    def old_mean(self) -> stats.Interval:
        return stats.mean_interval([e.old_score for e in self.paired if e.old_score is not None])

    @property
    def new_mean(self) -> stats.Interval:
        return stats.mean_interval([e.new_score for e in self.paired if e.new_score is not None])

    @property
    def pass_to_fail(self) -> list[EvaluationChange]:
        return [e for e in self.evaluations if e.old_pass is True and e.new_pass is False]

    @property
    def fail_to_pass(self) -> list[EvaluationChange]:
        return [e for e in self.evaluations if e.old_pass is False and e.new_pass is True]

    @property
    def critical_flips(self) -> int:
        return sum(1 for e in self.evaluations if e.old_critical != e.new_critical)

    @property
    def changed(self) -> int:
        return sum(1 for e in self.evaluations if e.changed)

    @property
    def movers(self) -> list[EvaluationChange]:
        moved = [e for e in self.evaluations if e.changed]
        return sorted(moved, key=lambda e: (-abs(e.delta or 0.0), e.evaluation_id))[:MOVERS]

    @property
    def combined_effect(self) -> float:
        """The part of the mean shift that no single change explains (changes that interact)."""
        if self.shift.estimate is None:
            return 0.0
        return round(self.shift.estimate - sum(e.mean_effect for e in self.effects), 2)

    @property
    def shift_excludes_zero(self) -> bool:
        low, high = self.shift.low, self.shift.high
        return low is not None and high is not None and (low > 0 or high < 0)

    @property
    def needs_review(self) -> bool:
        if self.pass_to_fail or self.fail_to_pass or self.critical_flips:
            return True
        if not self.enough:
            return self.changed > 0
        return self.shift_excludes_zero

    @property
    def verdict(self) -> str:
        if not self.evaluations:
            return "No evaluations to test against yet: " + stats.NOT_ENOUGH + "."
        if not self.enough:
            return (f"Only {len(self.paired)} evaluation(s) with a score: {stats.NOT_ENOUGH}; "
                    f"{self.changed} would change.")
        if self.needs_review:
            return "This draft would change scores: review the change before publishing."
        return "No measurable change to scores on the reference set."

    def histogram(self, bins: int = 10) -> tuple[list[str], list[float | None], list[float | None]]:
        """Score bins (0-9 … 90-100) with the number of evaluations in each, now and with the draft."""
        width = 100 / bins
        labels = [f"{int(i * width)}–{int((i + 1) * width) - (0 if i == bins - 1 else 1)}" for i in range(bins)]

        def counts(values: list[float | None]) -> list[float | None]:
            out = [0.0] * bins
            for value in values:
                if value is not None:
                    out[min(bins - 1, max(0, int(value // width)))] += 1
            return list(out)

        return (labels, counts([e.old_score for e in self.evaluations]),
                counts([e.new_score for e in self.evaluations]))

    def summary(self) -> dict[str, Any]:
        """The numbers that decide a publish, for the audit trail and the API."""
        shift, old, new = self.shift, self.old_mean, self.new_mean

        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {"draft_version": self.draft_number, "reference_size": self.reference_size,
                "scored": len(self.paired), "target": self.target,
                "old_mean": r(old.estimate), "new_mean": r(new.estimate), "shift": r(shift.estimate),
                "shift_low": r(shift.low), "shift_high": r(shift.high), "changed": self.changed,
                "pass_to_fail": len(self.pass_to_fail), "fail_to_pass": len(self.fail_to_pass),
                "critical_flips": self.critical_flips, "needs_review": self.needs_review}


def report_public(report: FormTestReport) -> dict[str, Any]:
    """The report as plain data (the JSON API)."""
    return {
        "summary": report.summary(), "verdict": report.verdict, "shift": report.shift.describe(2),
        "old_mean": report.old_mean.describe(1), "new_mean": report.new_mean.describe(1),
        "combined_effect": report.combined_effect, "elapsed_seconds": report.elapsed_seconds,
        "auto_check_job": asdict(report.auto_job) if report.auto_job else None,
        "effects": [{"key": e.change.key, "kind": e.change.kind, "description": e.change.description,
                     "mean_effect": e.mean_effect, "moved": e.moved, "flips": e.flips, "answered": e.answered}
                    for e in report.effects],
        "evaluations": [asdict(e) | {"delta": e.delta} for e in report.evaluations],
        "auto_checks": [{"question_id": c.question_id, "rule": c.rule, "compared": c.compared,
                         "disagreed": c.disagreed, "could_not_tell": c.could_not_tell, "note": c.note,
                         "disagreement_rate": c.rate.estimate, "rate_low": c.rate.low, "rate_high": c.rate.high,
                         "disagreements": [asdict(d) for d in c.disagreements]} for c in report.auto_checks],
    }


# ---------------------------------------------------------------- re-scoring

def fit_answers(form: ScorecardForm, answers: Sequence[AnswerInput]) -> tuple[list[AnswerInput], list[str]]:
    """The answers that still fit `form` and the ids of those that no longer do (questions the form no longer
    has are left out of both)."""
    kept: list[AnswerInput] = []
    dropped: list[str] = []
    for answer in answers:
        question = form.question(answer.question_id)
        if question is None:
            continue
        try:
            check_answer(question, answer)
        except AnswerError:
            dropped.append(answer.question_id)
            continue
        kept.append(answer)
    return kept, dropped


def _passes(result: ScoreResult, target: float) -> bool | None:
    if result.score is None:
        return None
    return not result.critical_failed and result.score >= target


def _score(form: ScorecardForm, answers: Sequence[AnswerInput]) -> ScoreResult:
    return score(form, fit_answers(form, answers)[0])


def build_report(draft: ScorecardForm, reference: Sequence[ReferenceEvaluation], *, draft_number: int = 0,
                 target: float = DEFAULT_TARGET,
                 auto_answers: Mapping[int, Mapping[str, tuple[str, str]]] | None = None) -> FormTestReport:
    """Re-score `reference` with `draft` and compare (pure: no database).

    `auto_answers`: interaction id → {question id: (auto value "yes"/"no"/"na", summary)} for the draft's
    auto-QA questions; without it no rule is checked.
    """
    started = time.perf_counter()
    evaluations: list[EvaluationChange] = []
    olds: dict[int, ScoreResult] = {}
    news: dict[int, ScoreResult] = {}
    unscored = 0
    scored_ids = {q.id for _, q in draft.questions() if q.scored}
    for ref in reference:
        old = score(ref.form, list(ref.answers))
        kept, dropped = fit_answers(draft, ref.answers)
        new = score(draft, kept)
        olds[ref.evaluation_id], news[ref.evaluation_id] = old, new
        unanswered = [q.question_id for q in new.questions
                      if q.visible and not q.answered and q.question_id in scored_ids]
        if old.score is None or new.score is None:
            unscored += 1
        evaluations.append(EvaluationChange(
            evaluation_id=ref.evaluation_id, interaction_id=ref.interaction_id, version_number=ref.version_number,
            old_score=old.score, new_score=new.score, old_critical=old.critical_failed,
            new_critical=new.critical_failed, old_pass=_passes(old, target), new_pass=_passes(new, target),
            dropped=dropped, unanswered=unanswered))
    report = FormTestReport(draft_number=draft_number, target=target, reference_size=len(reference),
                            evaluations=evaluations, effects=_effects(draft, reference, olds, news, target),
                            auto_checks=_auto_checks(draft, reference, auto_answers), unscored=unscored)
    report.elapsed_seconds = round(time.perf_counter() - started, 4)
    return report


def _effects(draft: ScorecardForm, reference: Sequence[ReferenceEvaluation], olds: Mapping[int, ScoreResult],
             news: Mapping[int, ScoreResult], target: float) -> list[ChangeEffect]:
    """Each change's effect alone, summed over version groups and averaged over the paired evaluations."""
    by_version: dict[int, list[ReferenceEvaluation]] = defaultdict(list)
    for ref in reference:
        by_version[ref.version_number].append(ref)
    totals: dict[str, float] = defaultdict(float)
    moved: dict[str, int] = defaultdict(int)
    flips: dict[str, int] = defaultdict(int)
    described: dict[str, FormChange] = {}
    order: list[str] = []
    paired = 0
    for group in sorted(by_version.values(), key=len, reverse=True):
        form = group[0].form
        pairs = {ref.evaluation_id for ref in group if olds[ref.evaluation_id].score is not None
                 and news[ref.evaluation_id].score is not None}
        paired += len(pairs)
        for change in diff_forms(form, draft):
            if change.key not in described:
                described[change.key] = change
                order.append(change.key)
            alone = apply_change(form, draft, change)
            for ref in group:
                old = olds[ref.evaluation_id]
                result = _score(alone, ref.answers)
                if _passes(result, target) != _passes(old, target):
                    flips[change.key] += 1
                if ref.evaluation_id in pairs and result.score is not None and old.score is not None:
                    difference = result.score - old.score
                    totals[change.key] += difference
                    moved[change.key] += 1 if abs(difference) > 1e-9 else 0
    answered = _answered_counts(reference)
    return [ChangeEffect(change=described[key], mean_effect=round(totals[key] / paired, 2) if paired else 0.0,
                         moved=moved[key], flips=flips[key], answered=answered.get(key, 0)) for key in order]


def _answered_counts(reference: Sequence[ReferenceEvaluation]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for ref in reference:
        for answer in ref.answers:
            if answer.na or answer.value is not None:
                counts[answer.question_id] += 1
    return counts


def _human_value(answer: AnswerInput | None) -> str | None:
    if answer is None:
        return None
    if answer.na:
        return "na"
    if isinstance(answer.value, bool):
        return "yes" if answer.value else "no"
    return None


def _auto_checks(draft: ScorecardForm, reference: Sequence[ReferenceEvaluation],
                 auto_answers: Mapping[int, Mapping[str, tuple[str, str]]] | None) -> list[AutoCheck]:
    checks = []
    for _, question in draft.questions():
        if question.auto_answer is None:
            continue
        check = AutoCheck(question_id=question.id, text=question.text, rule=question.auto_answer.rule)
        checks.append(check)
        if question.type != "yes_no":
            check.note = "auto-QA rules answer yes/no; only yes/no questions are compared"
            continue
        if auto_answers is None:
            check.note = "not checked yet"
            continue
        for ref in reference:
            human = _human_value(next((a for a in ref.answers if a.question_id == question.id), None))
            auto = auto_answers.get(ref.interaction_id, {}).get(question.id)
            if human is None or auto is None:
                continue
            value, summary = auto
            if value == "na":
                check.could_not_tell += 1
                continue
            check.compared += 1
            if value != human:
                check.disagreed += 1
                check.disagreements.append(Disagreement(ref.evaluation_id, ref.interaction_id, human, value, summary))
        if not check.compared:
            check.note = "no evaluation answered it where the rule could tell"
    return checks


def form_test(*, session: Session, version: ScorecardVersion, options: ReferenceOptions | None = None,
              with_auto_rules: bool = True) -> FormTestReport:
    """Test `version` against the scorecard's reference set (see the module docstring). The auto-QA rules are
    compared with the evaluators from the finished check job of this reference set, if there is one
    (`start_auto_check`); `report.auto_job` tells its state. Raises InvalidInput for bad options."""
    options = options or ReferenceOptions()
    options.check()
    started = time.perf_counter()
    draft = service.form_of(version)
    since, until = options.window()
    reference = reference_set(session=session, scorecard_id=version.scorecard_id, limit=options.limit,
                              since=since, until=until)
    job = (auto_job(session, auto_check_key(version, options, reference))
           if with_auto_rules and auto_rules_of(draft) else None)
    auto = answers_of(job) if job is not None and job.status == JobStatus.DONE else None
    report = build_report(draft, reference, draft_number=version.number, target=options.target, auto_answers=auto)
    if job is not None:
        assert job.id is not None
        report.auto_job = AutoJobState(job.id, job.status, job.progress, job.progress_message, job.error)
    report.elapsed_seconds = round(time.perf_counter() - started, 4)
    return report


def publish_reviewed(*, session: Session, version: ScorecardVersion, actor: Principal | None, reviewed: bool,
                     options: ReferenceOptions | None = None) -> tuple[ScorecardVersion, FormTestReport]:
    """Publish `version` after testing it on the reference set. When the test says the change needs review
    and `reviewed` is false, raises Conflict with the shift summary and publishes nothing. The audit event
    carries the shift numbers and whether the change was confirmed. A published version is returned as it
    is; a retired one raises Conflict (as `service.publish_version`)."""
    if version.status != VersionStatus.DRAFT:
        service.publish_version(session=session, version=version, actor=actor)
        return version, build_report(service.form_of(version), [], draft_number=version.number)
    report = form_test(session=session, version=version, options=options, with_auto_rules=False)
    if report.needs_review and not reviewed:
        raise Conflict(f"Publishing version {version.number} would change scores: {_shift_text(report)}. "
                       "Test the draft, then confirm \"I have reviewed the change\" to publish.",
                       details=[{"loc": "reviewed", "msg": "confirm that you have reviewed the change"}])
    service.publish_version(session=session, version=version, actor=actor, commit=False)
    audit.record(session=session, actor=actor, action="scorecard.publish_review", record_type="scorecard",
                 record_id=version.scorecard_id, after={**report.summary(), "confirmed": reviewed})
    session.commit()
    return version, report


def _shift_text(report: FormTestReport) -> str:
    summary = report.summary()
    parts = [f"mean {summary['old_mean']} → {summary['new_mean']} ({report.shift.describe(2)})"
             if summary["shift"] is not None else f"{report.changed} evaluation(s) change"]
    if summary["pass_to_fail"] or summary["fail_to_pass"]:
        parts.append(f"{summary['pass_to_fail']} pass → fail, {summary['fail_to_pass']} fail → pass")
    if summary["critical_flips"]:
        parts.append(f"{summary['critical_flips']} critical result(s) flip")
    return "; ".join(parts)
