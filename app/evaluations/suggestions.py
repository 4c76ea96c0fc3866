"""Auto-QA answers offered in the evaluation form, and how often evaluators keep them.

When an evaluation starts, each yes/no question of its form that the analysis answered (app/nlp auto-QA) gets
a suggestion: the answer, its confidence, a one-line summary and the evidence it rests on (transcript times for
calls, message ids for chats, e-mails and social threads, metric values). The snapshot is taken once, so a later
re-analysis does not change what the evaluator was shown. On submit each suggestion records the evaluator's
final answer and whether it was accepted or changed; `agreement` reports that per question, which tells which
auto-QA rules to trust.

Calibration evaluations get no suggestions: they measure how evaluators agree with each other unaided.
Evidence keeps references only (times, ids, category, metric), never the quoted text: the form shows the
transcript line or message beside it, through the page's own (redacted) text.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.evaluations.models import Evaluation, EvaluationAnswer, EvaluationSuggestion
from app.nlp.agreement import QuestionAgreement, agreement_by_question
from app.nlp.models import AutoAnswerRow
from app.scorecards import service as scorecards
from app.scorecards.schema import ScorecardForm

# what a suggestion's evidence may keep (no quoted text: see the module docstring)
_EVIDENCE_KEYS = ("kind", "source_type", "source_id", "speaker", "start_time", "end_time", "category", "metric",
                  "value", "note")


def _reference(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in _EVIDENCE_KEYS if item.get(key) is not None}


def snapshot(*, session: Session, evaluation: Evaluation, form: ScorecardForm) -> list[EvaluationSuggestion]:
    """Store the auto-QA answers of the evaluation's interaction for the form's yes/no questions (N/A answers
    only where the question allows N/A). Flushes; the caller commits. Nothing for calibration evaluations."""
    if evaluation.calibration_session_id is not None or evaluation.id is None:
        return []
    questions = {q.id: q for _, q in form.questions() if q.type == "yes_no"}
    rows = session.exec(select(AutoAnswerRow).where(AutoAnswerRow.interaction_id == evaluation.interaction_id,
                                                    col(AutoAnswerRow.question_id).in_(list(questions)))).all()
    made = []
    for row in rows:
        question = questions[row.question_id]
        if row.value == "na" and not question.na_allowed:
            continue
        suggestion = EvaluationSuggestion(evaluation_id=evaluation.id, question_id=row.question_id, value=row.value,
                                          confidence=row.confidence, summary=row.summary[:1000],
                                          evidence=[_reference(e) for e in row.evidence])
        session.add(suggestion)
        made.append(suggestion)
    session.flush()
    return made


def of_evaluation(*, session: Session, evaluation_id: int) -> dict[str, EvaluationSuggestion]:
    """The evaluation's suggestions by question id."""
    rows = session.exec(select(EvaluationSuggestion).where(EvaluationSuggestion.evaluation_id == evaluation_id)).all()
    return {s.question_id: s for s in rows}


def answer_value(answer: EvaluationAnswer | None) -> str | None:
    """A stored answer in the suggestions' terms: yes, no, na, or None (not answered)."""
    if answer is None:
        return None
    if answer.na:
        return "na"
    if answer.value is True:
        return "yes"
    if answer.value is False:
        return "no"
    return None


def record_outcomes(*, session: Session, evaluation_id: int, answers: Sequence[EvaluationAnswer]) -> dict[str, int]:
    """On submit: set each suggestion's final answer and outcome. Returns the counts per outcome (for the audit)."""
    by_question = {a.question_id: a for a in answers}
    counts: dict[str, int] = {}
    for suggestion in of_evaluation(session=session, evaluation_id=evaluation_id).values():
        final = answer_value(by_question.get(suggestion.question_id))
        suggestion.final_value = final
        suggestion.outcome = ("unanswered" if final is None else
                              "accepted" if final == suggestion.value else "changed")
        counts[suggestion.outcome] = counts.get(suggestion.outcome, 0) + 1
        session.add(suggestion)
    return counts


@dataclass(frozen=True)
class SuggestionAgreement:
    question_id: str
    question_text: str
    agreement: QuestionAgreement
    confidence: float | None  # mean confidence of the suggestions compared


def agreement(*, session: Session, scorecard_id: int | None = None) -> list[SuggestionAgreement]:
    """Per question: how many submitted suggestions the evaluators accepted, Cohen's kappa between auto-QA
    and the evaluators, the mean confidence. Questions are named by their text in the form version they were
    answered in; a question answered under several versions is reported once, by id."""
    query = (select(EvaluationSuggestion, Evaluation.scorecard_version_id)
             .join(Evaluation, col(Evaluation.id) == EvaluationSuggestion.evaluation_id)
             .where(col(EvaluationSuggestion.outcome).in_(("accepted", "changed"))))
    if scorecard_id is not None:
        query = query.where(Evaluation.scorecard_id == scorecard_id)
    rows = session.exec(query).all()
    texts: dict[str, str] = {}
    confidences: dict[str, list[float]] = {}
    pairs = []
    forms: dict[int, ScorecardForm] = {}
    for suggestion, version_id in rows:
        assert suggestion.final_value is not None
        if version_id not in forms:
            forms[version_id] = scorecards.form_of(scorecards.get_version(session=session, version_id=version_id))
        form = forms[version_id]
        question = form.question(suggestion.question_id) if form else None
        texts.setdefault(suggestion.question_id, question.text if question else suggestion.question_id)
        confidences.setdefault(suggestion.question_id, []).append(suggestion.confidence)
        pairs.append((suggestion.question_id, suggestion.value, suggestion.final_value))
    return [SuggestionAgreement(question_id=a.question_id, question_text=texts[a.question_id], agreement=a,
                                confidence=sum(confidences[a.question_id]) / len(confidences[a.question_id]))
            for a in agreement_by_question(pairs)]


# ---------------------------------------------------------------- what the form shows


@dataclass(frozen=True)
class EvidenceView:
    """One piece of a suggestion's evidence as the form shows it: `seek` (seconds) plays the call from there,
    `message_id` links to the message beside the form, `ref` is what the evidence field gets on accept."""

    label: str
    seek: float | None = None
    message_id: int | None = None
    ref: str = ""


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def evidence_views(suggestion: EvaluationSuggestion) -> list[EvidenceView]:
    views = []
    for item in suggestion.evidence:
        who = item.get("speaker", "")
        what = str(item.get("category") or item.get("note") or "").replace("_", " ")
        if item.get("source_type") == "message" and item.get("source_id") is not None:
            message_id = int(item["source_id"])
            views.append(EvidenceView(label=f"message #{message_id} · {who} {what}".strip(), message_id=message_id,
                                      ref=f"#{message_id}"))
        elif item.get("start_time") is not None:
            start, end = float(item["start_time"]), item.get("end_time")
            ref = _clock(start) + (f"-{_clock(float(end))}" if end is not None and float(end) > start else "")
            views.append(EvidenceView(label=f"{_clock(start)} · {who} {what}".strip(), seek=start, ref=ref))
        elif item.get("kind") == "metric":
            views.append(EvidenceView(label=f"{str(item.get('metric', '')).replace('_', ' ')} = {item.get('value')}"))
        elif what:
            views.append(EvidenceView(label=what))
    return views


def evidence_refs(suggestion: EvaluationSuggestion) -> str:
    """What accepting the suggestion puts in the question's evidence field ("0:12-0:15, #34")."""
    return ", ".join(dict.fromkeys(v.ref for v in evidence_views(suggestion) if v.ref))
