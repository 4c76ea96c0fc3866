"""Turning the evaluation page's HTML form fields into answers (pure functions, unit-tested).

Fields per question: `answer__<id>` ("yes"/"no" for yes_no, the number for scale, the option value for
choice, text for comment; "na" for N/A; empty for unanswered), `comment__<id>` and `evidence__<id>`
("1:23", "83.5", "1:23-1:40" for a transcript time range, "#12" for a message id; several separated by
commas).
"""

import re
from collections.abc import Mapping
from typing import Any

from app.evaluations.models import AnswerIn, Evidence
from app.scorecards.schema import Question, ScorecardForm

TIME = r"(?:\d+:)?\d+(?:\.\d+)?"
RANGE = re.compile(rf"^\s*({TIME})\s*(?:-\s*({TIME}))?\s*$")
MESSAGE = re.compile(r"^\s*#(\d+)\s*$")


class FormFieldError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_time(text: str) -> float:
    """'1:23' → 83.0, '83.5' → 83.5, '1:02:03' → 3723.0."""
    seconds = 0.0
    for part in text.strip().split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_evidence(text: str, *, field: str) -> list[Evidence]:
    items: list[Evidence] = []
    for chunk in (c for c in text.split(",") if c.strip()):
        message = MESSAGE.match(chunk)
        if message:
            items.append(Evidence(message_id=int(message.group(1))))
            continue
        time_range = RANGE.match(chunk)
        if not time_range:
            raise FormFieldError(field, f"{chunk.strip()!r} is not a time (1:23 or 1:23-1:40) or a message (#12)")
        start = parse_time(time_range.group(1))
        end = parse_time(time_range.group(2)) if time_range.group(2) else None
        items.append(Evidence(start=start, end=end))
    return items


def _value(question: Question, raw: str, *, field: str) -> tuple[bool | int | str | None, bool]:
    raw = raw.strip()
    if raw == "":
        return None, False
    if raw == "na" and question.type != "comment":
        return None, True
    if question.type == "yes_no":
        if raw not in ("yes", "no"):
            raise FormFieldError(field, "choose yes or no")
        return raw == "yes", False
    if question.type == "scale":
        try:
            return int(raw), False
        except ValueError as exc:
            raise FormFieldError(field, "choose a number") from exc
    return raw, False


def answers_from_form(form: ScorecardForm, fields: Mapping[str, Any]) -> list[AnswerIn]:
    """Answers for every question that has a value, N/A, comment or evidence in the submitted fields."""
    answers: list[AnswerIn] = []
    for _, question in form.questions():
        value, na = _value(question, str(fields.get(f"answer__{question.id}", "")),
                           field=f"answer__{question.id}")
        comment = str(fields.get(f"comment__{question.id}", "")).strip() or None
        evidence = parse_evidence(str(fields.get(f"evidence__{question.id}", "")), field=f"evidence__{question.id}")
        if value is None and not na and comment is None and not evidence:
            continue
        answers.append(AnswerIn(question_id=question.id, value=value, na=na, comment=comment, evidence=evidence))
    return answers


def field_value(question: Question, value: Any, na: bool) -> str:
    """The inverse of `_value`: what the form field shows for a stored answer."""
    if na:
        return "na"
    if value is None:
        return ""
    if question.type == "yes_no":
        return "yes" if value is True else "no"
    return str(value)


def format_time(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    text = f"{int(minutes)}:{secs:04.1f}" if secs % 1 else f"{int(minutes)}:{int(secs):02d}"
    return text


def evidence_text(evidence: list[dict[str, Any]]) -> str:
    parts = []
    for item in evidence:
        if item.get("message_id") is not None:
            parts.append(f"#{item['message_id']}")
        elif item.get("start") is not None:
            end = item.get("end")
            parts.append(format_time(item["start"]) + (f"-{format_time(end)}" if end is not None else ""))
    return ", ".join(parts)
