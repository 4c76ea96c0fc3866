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
CPU per call (the language pipeline), 8-15 s for 500, so they run as a job (`start_auto_check`). See bench/formtest.py.
"""

import hashlib
import math
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any, Literal

from sqlmodel import Session, select

from app.core import audit, stats
from app.core.errors import Conflict, InvalidInput
from app.core.hooks import SCORED_EVALUATIONS, ScoredEvaluationsQuery
from app.core.jobs import JobKind, JobQueue
from app.core.models import Job, JobStatus
from app.core.security import Principal
from app.scorecards import service
from app.scorecards.models import ScorecardVersion, VersionStatus
from app.scorecards.schema import ScorecardForm
from app.scorecards.scoring import AnswerError, AnswerInput, ScoreResult, check_answer, score

DEFAULT_REFERENCE_SIZE = 200
MAX_REFERENCE_SIZE = 1000  # re-scored inline: ~1.4 s of CPU at this size with a few changes
DEFAULT_TARGET = 80.0
MOVERS = 10
AUTO_CHECK_JOB = JobKind.SCORECARDS_AUTO_CHECK
# what does not change a score: wording, guidance, scale labels, the auto rule
_NOT_SCORED = {"text", "guidance", "labels", "auto_answer"}

ChangeKind = Literal["added", "removed", "changed", "section weight"]


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
class FormChange:
    key: str  # a question id, or "section:<id>" for a section weight
    kind: ChangeKind
    description: str


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
    auto_job: "AutoJobState | None" = None  # the auto-QA check job of this reference set, if started

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


# ---------------------------------------------------------------- what changed between two forms

def _scoring_view(data: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in data.items() if k not in _NOT_SCORED}
    if view.get("options"):
        view["options"] = [{k: v for k, v in o.items() if k != "label"} for o in view["options"]]
    return view


def _describe(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name == "options":
            parts.append("options changed")
        elif isinstance(before, bool) or isinstance(after, bool):
            parts.append(f"{name.replace('_', ' ')} {'yes' if before else 'no'} → {'yes' if after else 'no'}")
        else:
            parts.append(f"{name.replace('_', ' ')} {before if before is not None else '—'} → "
                         f"{after if after is not None else '—'}")
    return "; ".join(parts)


def _placed(form: ScorecardForm) -> dict[str, tuple[str, dict[str, Any]]]:
    """question id → (section id, the question's scoring fields with defaults filled in)."""
    return {q.id: (s.id, _scoring_view(q.model_dump(mode="json"))) for s, q in form.questions()}


def diff_forms(old: ScorecardForm, new: ScorecardForm) -> list[FormChange]:
    """The changes of `new` against `old` that can move a score, in the new form's order (removals last)."""
    before, after = _placed(old), _placed(new)
    changes: list[FormChange] = []
    old_weights = {s.id: s.weight for s in old.sections}
    for section in new.sections:
        if section.id in old_weights and old_weights[section.id] != section.weight:
            changes.append(FormChange(f"section:{section.id}", "section weight",
                                      f"weight {old_weights[section.id]} → {section.weight}"))
        for question in section.questions:
            if question.id not in before:
                changes.append(FormChange(question.id, "added", f"new {question.type} question in {section.id}"))
                continue
            old_section, old_view = before[question.id]
            new_section, new_view = after[question.id]
            description = _describe(old_view, new_view)
            if old_section != new_section:
                description = "; ".join(p for p in (f"moved from {old_section} to {new_section}", description) if p)
            if description:
                changes.append(FormChange(question.id, "changed", description))
    changes += [FormChange(qid, "removed", f"removed from {sid}") for qid, (sid, _) in before.items()
                if qid not in after]
    return changes


def apply_change(old: ScorecardForm, new: ScorecardForm, change: FormChange) -> ScorecardForm:
    """`old` with only `change` (taken from `new`) applied: what that change alone does."""
    data = old.model_dump(mode="python")
    sections: list[dict[str, Any]] = data["sections"]
    if change.kind == "section weight":
        section_id = change.key.removeprefix("section:")
        weight = next(s.weight for s in new.sections if s.id == section_id)
        for section in sections:
            if section["id"] == section_id:
                section["weight"] = weight
        return ScorecardForm.model_validate(data)
    for section in sections:
        section["questions"] = [q for q in section["questions"] if q["id"] != change.key]
    for new_section in new.sections:
        ids = [q.id for q in new_section.questions]
        if change.key not in ids:
            continue
        target = next((s for s in sections if s["id"] == new_section.id), None)
        if target is None:
            target = new_section.model_dump(mode="python") | {"questions": []}
            sections.append(target)
        earlier = set(ids[:ids.index(change.key)])
        position = max((i + 1 for i, q in enumerate(target["questions"]) if q["id"] in earlier), default=0)
        target["questions"].insert(position, new_section.questions[ids.index(change.key)].model_dump(mode="python"))
    data["sections"] = [s for s in sections if s["questions"]]
    return ScorecardForm.model_validate(data)


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


# ---------------------------------------------------------------- with the database

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


def auto_rules_of(draft: ScorecardForm) -> dict[str, Any]:
    """The draft's auto-QA rules on yes/no questions, parsed ({question id: rule}); a rule that does not
    validate is left out (its check then says it was not run)."""
    from pydantic import ValidationError

    from app.nlp.sources import rule_from_auto_answer

    rules: dict[str, Any] = {}
    for _, question in draft.questions():
        if question.auto_answer is not None and question.type == "yes_no":
            try:
                rules[question.id] = rule_from_auto_answer(question.auto_answer.rule, question.auto_answer.params)
            except ValidationError:
                continue
    return rules


def run_auto_rules(*, session: Session, draft: ScorecardForm,
                   interaction_ids: Sequence[int]) -> dict[int, dict[str, tuple[str, str]]]:
    """Run the draft's auto-QA rules on these interactions (nothing stored): interaction id →
    {question id: (value, summary)}. Slow (the language pipeline on every transcript): a job runs it."""
    from app.nlp import service as nlp

    rules = auto_rules_of(draft)
    out: dict[int, dict[str, tuple[str, str]]] = {}
    for interaction_id in interaction_ids if rules else []:
        answers = nlp.answer_rules(session=session, interaction_id=interaction_id, rules=rules)
        out[interaction_id] = {key: (answer.value, answer.summary) for key, answer in answers.items()}
    return out


# ---------------------------------------------------------------- the auto-QA check as a job

@dataclass(frozen=True)
class AutoJobState:
    job_id: int
    status: str
    progress: float
    message: str | None
    error: str | None


def auto_check_key(version: ScorecardVersion, options: "ReferenceOptions",
                   reference: Sequence[ReferenceEvaluation]) -> str:
    """One job per (version content, options, reference evaluations): a finished check is reused until a new
    evaluation enters the reference set or the draft changes."""
    ids = ",".join(str(ref.evaluation_id) for ref in reference)  # the pass mark plays no part in the answers
    digest = hashlib.sha256(f"{version.content_hash}|{options.limit}|{options.since}|{options.until}|{ids}"
                            .encode()).hexdigest()
    return f"{AUTO_CHECK_JOB}:{version.id}:{digest[:32]}"


def _auto_job(session: Session, key: str) -> Job | None:
    return session.exec(select(Job).where(Job.dedupe_key == key)).first()


def start_auto_check(*, session: Session, queue: JobQueue, version: ScorecardVersion, options: "ReferenceOptions",
                     actor: Principal) -> Job:
    """Queue the auto-QA check of `version` on its reference set (or return the one already queued or done).
    Raises InvalidInput when the version has no auto-QA rule on a yes/no question."""
    if not auto_rules_of(service.form_of(version)):
        raise InvalidInput("this version has no auto-QA rule on a yes/no question to check",
                           details=[{"loc": "auto_answer", "msg": "no rule to check"}])
    since, until = options.window()
    reference = reference_set(session=session, scorecard_id=version.scorecard_id, limit=options.limit,
                              since=since, until=until)
    return queue.enqueue(session=session, kind=AUTO_CHECK_JOB, created_by=actor.user_id,
                         dedupe_key=auto_check_key(version, options, reference),
                         payload={"version_id": version.id, **options.as_form()})


def auto_check_inputs(*, session: Session, payload: Mapping[str, Any]) -> tuple[ScorecardForm, list[int]]:
    """The job's inputs: the version's form and the reference interactions (raises NotFound, InvalidInput)."""
    version = service.get_version(session=session, version_id=int(payload["version_id"]))
    options = parse_options(limit=str(payload.get("limit", "")), since=str(payload.get("since", "")),
                            until=str(payload.get("until", "")), target=str(payload.get("target", "")))
    since, until = options.window()
    reference = reference_set(session=session, scorecard_id=version.scorecard_id, limit=options.limit,
                              since=since, until=until)
    return service.form_of(version), list(dict.fromkeys(ref.interaction_id for ref in reference))


def auto_check_result(answers: Mapping[int, Mapping[str, tuple[str, str]]]) -> dict[str, Any]:
    """The job's result as JSON (read back by `form_test`)."""
    return {"interactions": len(answers),
            "answers": {str(i): {q: list(a) for q, a in found.items()} for i, found in answers.items()}}


def _answers_of(job: Job) -> dict[int, dict[str, tuple[str, str]]]:
    stored = (job.result or {}).get("answers", {})
    return {int(i): {q: (str(a[0]), str(a[1])) for q, a in found.items()} for i, found in stored.items()}


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
    job = (_auto_job(session, auto_check_key(version, options, reference))
           if with_auto_rules and auto_rules_of(draft) else None)
    auto = _answers_of(job) if job is not None and job.status == JobStatus.DONE else None
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
