"""Scoring a form's answers: pure functions, no database.

The rules (documented here because agents' pay depends on them):
1. A question is *visible* unless it has a condition whose referenced answer differs from `equals`
   (a question whose referenced question is itself hidden or unanswered is hidden too). Hidden questions
   and their answers count for nothing.
2. Comment questions are never scored.
3. A visible scored question answered N/A leaves the denominator: it earns 0 of 0 possible.
   An unanswered one is listed as missing (a submit refuses missing required answers; a preview
   scores what is there).
4. Earned points: yes_no → `points` for yes, 0 for no; scale → points × (value − min) / (max − min);
   choice → the chosen option's points (possible = the best option's points).
5. Section score = 100 × earned / possible (None when nothing in it is scoreable).
6. Form score = the mean of section scores weighted by section `weight` when the form sets weights, else by
   each section's possible points (the same as 100 × Σ earned / Σ possible). Sections without a score
   are left out. All N/A → no score (None).
7. Critical questions: a "no" (or an option with `fails_critical`) on a visible critical question sets its
   section score to 0 (scope "section") or the whole form score to 0 (scope "form"); the breakdown still
   shows every question's points so the evaluator can see what else happened.
Scores are rounded to 2 decimals.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from app.scorecards.schema import Question, ScorecardForm

AnswerValue = bool | int | str | None


@dataclass(frozen=True)
class AnswerInput:
    question_id: str
    value: AnswerValue = None
    na: bool = False


@dataclass
class QuestionResult:
    question_id: str
    section_id: str
    text: str
    type: str
    visible: bool
    answered: bool
    na: bool
    value: AnswerValue
    earned: float
    possible: float
    critical: bool
    critical_failed: bool
    note: str = ""


@dataclass
class SectionResult:
    section_id: str
    title: str
    weight: float
    earned: float
    possible: float
    score: float | None
    critical_failed: bool


@dataclass
class ScoreResult:
    score: float | None
    critical_failed: bool
    critical_failures: list[str]
    missing: list[str]
    sections: list[SectionResult] = field(default_factory=list)
    questions: list[QuestionResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def question(self, question_id: str) -> QuestionResult | None:
        return next((q for q in self.questions if q.question_id == question_id), None)


class AnswerError(ValueError):
    """An answer that does not fit its question (wrong type, out of range, N/A where not allowed)."""

    def __init__(self, question_id: str, message: str) -> None:
        super().__init__(f"{question_id}: {message}")
        self.question_id = question_id
        self.message = message


def check_answer(question: Question, answer: AnswerInput) -> None:
    """Raise AnswerError when `answer` is not a possible answer to `question`."""
    if answer.na:
        if not question.na_allowed:
            raise AnswerError(question.id, "N/A is not allowed for this question")
        return
    value = answer.value
    if value is None:
        return
    if question.type == "yes_no" and not isinstance(value, bool):
        raise AnswerError(question.id, "answer yes (true) or no (false)")
    if question.type == "scale":
        assert question.min is not None and question.max is not None
        if isinstance(value, bool) or not isinstance(value, int) or not question.min <= value <= question.max:
            raise AnswerError(question.id, f"answer an integer from {question.min} to {question.max}")
    if question.type == "choice" and (not isinstance(value, str) or question.option(value) is None):
        raise AnswerError(question.id, "answer one of the options: "
                          + ", ".join(o.value for o in question.options or []))
    if question.type == "comment" and not isinstance(value, str):
        raise AnswerError(question.id, "answer with text")


def _points(question: Question, value: AnswerValue) -> tuple[float, bool]:
    """(earned, critical_failed) for a given, valid, non-N/A value."""
    if question.type == "yes_no":
        return (question.max_points if value is True else 0.0), bool(question.critical and value is False)
    if question.type == "scale":
        assert question.min is not None and question.max is not None and isinstance(value, int)
        return question.max_points * (value - question.min) / (question.max - question.min), False
    if question.type == "choice":
        option = question.option(str(value))
        assert option is not None
        return option.points, bool(question.critical and option.fails_critical)
    return 0.0, False


def visible_question_ids(form: ScorecardForm, answers: dict[str, AnswerInput]) -> set[str]:
    """The questions shown for these answers (conditions refer only to earlier questions)."""
    visible: set[str] = set()
    for _, question in form.questions():
        condition = question.condition
        if condition is None:
            visible.add(question.id)
            continue
        answer = answers.get(condition.question_id)
        if (condition.question_id in visible and answer is not None and not answer.na
                and answer.value is not None and answer.value == condition.equals
                and type(answer.value) is type(condition.equals)):
            visible.add(question.id)
    return visible


def score(form: ScorecardForm, answers: list[AnswerInput]) -> ScoreResult:
    """Score `answers` against `form` (see the module docstring for the rules).

    Raises AnswerError for an answer to an unknown question or one that does not fit its question.
    """
    by_id: dict[str, AnswerInput] = {}
    for answer in answers:
        question = form.question(answer.question_id)
        if question is None:
            raise AnswerError(answer.question_id, "no such question in this form")
        check_answer(question, answer)
        by_id[answer.question_id] = answer
    visible = visible_question_ids(form, by_id)
    weighted = all(s.weight is not None for s in form.sections)
    result = ScoreResult(score=None, critical_failed=False, critical_failures=[], missing=[])
    form_failed = False
    raw: list[tuple[float, float]] = []  # (weight, unrounded section score)
    for section in form.sections:
        earned = possible = 0.0
        section_failed = False
        for question in section.questions:
            given = by_id.get(question.id)
            shown = question.id in visible
            na = bool(given and given.na)
            value = given.value if given and not given.na else None
            answered = na or value is not None
            q_earned = q_possible = 0.0
            failed = False
            note = ""
            if not shown:
                note = "hidden by its condition"
            elif not question.scored:
                note = "comment: not scored"
            elif na:
                note = "N/A: left out of the denominator"
            elif value is None:
                note = "not answered"
                if question.is_required:
                    result.missing.append(question.id)
            else:
                q_earned, failed = _points(question, value)
                q_possible = question.max_points
            if shown and not question.scored and question.is_required and not answered:
                result.missing.append(question.id)
            if failed:
                result.critical_failures.append(question.id)
                if question.critical_scope == "form":
                    form_failed = True
                else:
                    section_failed = True
                note = f"critical failure ({question.critical_scope})"
            earned += q_earned
            possible += q_possible
            result.questions.append(QuestionResult(
                question_id=question.id, section_id=section.id, text=question.text, type=question.type,
                visible=shown, answered=answered, na=na, value=value if shown else None,
                earned=round(q_earned, 4), possible=round(q_possible, 4), critical=question.critical,
                critical_failed=failed, note=note))
        section_score = None if possible <= 0 else (0.0 if section_failed else 100.0 * earned / possible)
        weight = (section.weight or 0.0) if weighted else possible
        if section_score is not None and weight > 0:
            raw.append((weight, section_score))
        result.sections.append(SectionResult(
            section_id=section.id, title=section.title, weight=weight,
            earned=round(earned, 4), possible=round(possible, 4),
            score=None if section_score is None else round(section_score, 2), critical_failed=section_failed))
    total_weight = sum(w for w, _ in raw)
    if total_weight > 0:
        result.score = round(sum(w * s for w, s in raw) / total_weight, 2)
    result.critical_failed = form_failed or any(s.critical_failed for s in result.sections)
    if form_failed:
        result.score = 0.0
    return result
