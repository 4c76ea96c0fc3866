"""The evaluation page's form fields → answers."""

import pytest

from app.evaluations.forms import (
    FormFieldError,
    answers_from_form,
    evidence_text,
    field_value,
    parse_evidence,
    parse_time,
)
from app.scorecards.schema import parse_form

FORM = parse_form({"key": "f", "name": "F", "channels": ["chat"], "sections": [{"id": "s", "title": "S", "questions": [
    {"id": "yn", "text": "yn", "type": "yes_no", "na_allowed": True},
    {"id": "sc", "text": "sc", "type": "scale", "min": 1, "max": 5},
    {"id": "ch", "text": "ch", "type": "choice", "options": [{"value": "a", "points": 1}, {"value": "b"}]},
    {"id": "cm", "text": "cm", "type": "comment"}]}]})


def test_parse_time():
    assert parse_time("1:23") == 83.0 and parse_time("83.5") == 83.5 and parse_time("1:02:03") == 3723.0


def test_parse_evidence_ranges_and_messages():
    items = parse_evidence("0:30-0:45, #12, 90", field="e")
    assert [(i.start, i.end, i.message_id) for i in items] == [(30.0, 45.0, None), (None, None, 12), (90.0, None, None)]


def test_parse_evidence_rejects_words():
    with pytest.raises(FormFieldError) as info:
        parse_evidence("at the start", field="evidence__yn")
    assert info.value.field == "evidence__yn"


def test_answers_from_form_types():
    answers = answers_from_form(FORM, {"answer__yn": "na", "answer__sc": "4", "answer__ch": "b",
                                       "answer__cm": " fine ", "comment__sc": "ok", "evidence__sc": "#3"})
    by_id = {a.question_id: a for a in answers}
    assert by_id["yn"].na and by_id["yn"].value is None
    assert by_id["sc"].value == 4 and by_id["sc"].comment == "ok" and by_id["sc"].evidence[0].message_id == 3
    assert by_id["ch"].value == "b" and by_id["cm"].value == "fine"


def test_unanswered_questions_are_left_out():
    assert [a.question_id for a in answers_from_form(FORM, {"answer__yn": "yes"})] == ["yn"]


def test_bad_yes_no_value():
    with pytest.raises(FormFieldError):
        answers_from_form(FORM, {"answer__yn": "maybe"})


def test_field_value_round_trip():
    question = FORM.question("yn")
    assert field_value(question, True, False) == "yes" and field_value(question, False, False) == "no"
    assert field_value(question, None, True) == "na" and field_value(question, None, False) == ""


def test_evidence_text():
    assert evidence_text([{"start": 30.0, "end": 45.5}, {"message_id": 7}]) == "0:30-0:45.5, #7"
