"""Form validation: every rule rejects with the exact field path (and the YAML line for files)."""

import copy
from pathlib import Path

import pytest

from app.core.errors import InvalidInput
from app.scorecards.schema import form_to_yaml, format_loc, parse_form, parse_form_yaml

SCORECARDS = Path(__file__).resolve().parents[2] / "scorecards"


def base() -> dict:
    return {
        "key": "test_form", "name": "Test", "channels": ["call"],
        "sections": [
            {"id": "s1", "title": "One", "questions": [
                {"id": "q1", "text": "Greeted", "type": "yes_no"},
                {"id": "q2", "text": "Tone", "type": "scale", "min": 1, "max": 5}]},
            {"id": "s2", "title": "Two", "questions": [
                {"id": "q3", "text": "Resolved", "type": "choice",
                 "options": [{"value": "yes", "points": 2}, {"value": "no", "points": 0}]},
                {"id": "q4", "text": "Comment", "type": "comment"}]},
        ],
    }


def problems(data) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        parse_form(data)
    return [(d["loc"], d["msg"]) for d in info.value.details]


def mutate(fn) -> dict:
    data = copy.deepcopy(base())
    fn(data)
    return data


def test_base_form_is_valid():
    form = parse_form(base())
    assert [q.id for _, q in form.questions()] == ["q1", "q2", "q3", "q4"]


@pytest.mark.parametrize("path", sorted(SCORECARDS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_forms_are_valid_and_round_trip(path):
    form = parse_form_yaml(path.read_text())
    assert parse_form_yaml(form_to_yaml(form)) == form


def test_shipped_forms_cover_the_channels():
    channels = {c for p in SCORECARDS.glob("*.yaml") for c in parse_form_yaml(p.read_text()).channels}
    assert channels == {"call", "chat", "email", "social"}


def test_voice_form_has_critical_identity_verification():
    form = parse_form_yaml((SCORECARDS / "voice_call.yaml").read_text())
    question = form.question("identity_verified")
    assert question is not None and question.critical and question.critical_scope == "form"


def test_format_loc():
    assert format_loc(("sections", 1, "questions", 2, "options")) == "sections[1].questions[2].options"
    assert format_loc(()) == "(form)"


def test_choice_needs_two_options():
    data = mutate(lambda d: d["sections"][1]["questions"][0].update(options=[{"value": "a", "points": 1}]))
    assert ("sections[1].questions[0].options", "at least two options required") in problems(data)


def test_duplicate_question_id():
    data = mutate(lambda d: d["sections"][1]["questions"][0].update(id="q1"))
    [(loc, msg)] = problems(data)
    assert loc == "sections[1].questions[0].id" and "duplicate question id 'q1'" in msg
    assert "sections[0].questions[0]" in msg


def test_duplicate_section_id():
    data = mutate(lambda d: d["sections"][1].update(id="s1"))
    assert problems(data)[0][0] == "sections[1].id"


def test_condition_unknown_question():
    data = mutate(lambda d: d["sections"][0]["questions"][1].update(condition={"question_id": "nope", "equals": True}))
    assert problems(data) == [("sections[0].questions[1].condition.question_id", "unknown question 'nope'")]


def test_condition_later_question():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(condition={"question_id": "q3", "equals": "yes"}))
    loc, msg = problems(data)[0]
    assert loc == "sections[0].questions[0].condition.question_id" and "later" in msg


def test_condition_on_itself():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(condition={"question_id": "q1", "equals": True}))
    assert "itself" in problems(data)[0][1]


def test_condition_value_must_fit_yes_no():
    data = mutate(lambda d: d["sections"][0]["questions"][1].update(condition={"question_id": "q1", "equals": 3}))
    assert problems(data)[0][0] == "sections[0].questions[1].condition.equals"


def test_condition_value_must_be_an_option():
    data = mutate(lambda d: d["sections"][1]["questions"][1].update(condition={"question_id": "q3", "equals": "maybe"}))
    assert problems(data)[0] == ("sections[1].questions[1].condition.equals", "must be one of the options of 'q3'")


def test_condition_on_scale_out_of_range():
    data = mutate(lambda d: d["sections"][1]["questions"][0].update(condition={"question_id": "q2", "equals": 9}))
    assert problems(data)[0][0] == "sections[1].questions[0].condition.equals"


def test_condition_on_comment_rejected():
    def change(d):
        d["sections"][1]["questions"].append({"id": "q5", "text": "x", "type": "yes_no",
                                              "condition": {"question_id": "q4", "equals": "x"}})
    assert "comment" in problems(mutate(change))[0][1]


def test_critical_comment_rejected():
    data = mutate(lambda d: d["sections"][1]["questions"][1].update(critical=True))
    assert ("sections[1].questions[1].critical", "a free-text (comment) question cannot be critical") in problems(data)


def test_critical_scale_rejected():
    data = mutate(lambda d: d["sections"][0]["questions"][1].update(critical=True))
    assert problems(data)[0][0] == "sections[0].questions[1].critical"


def test_critical_choice_needs_a_failing_option():
    data = mutate(lambda d: d["sections"][1]["questions"][0].update(critical=True))
    assert problems(data)[0][0] == "sections[1].questions[0].options"


def test_negative_points():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(points=-1))
    assert problems(data) == [("sections[0].questions[0].points", "must be >= 0")]


def test_negative_option_points():
    data = mutate(lambda d: d["sections"][1]["questions"][0]["options"][1].update(points=-2))
    assert problems(data) == [("sections[1].questions[0].options[1].points", "must be >= 0")]


def test_scale_max_not_above_min():
    data = mutate(lambda d: d["sections"][0]["questions"][1].update(min=5, max=5))
    assert problems(data) == [("sections[0].questions[1].max", "must be greater than min")]


def test_scale_without_bounds():
    data = mutate(lambda d: d["sections"][0]["questions"][1].pop("max"))
    assert problems(data)[0][0] == "sections[0].questions[1].max"


def test_scale_label_out_of_range():
    data = mutate(lambda d: d["sections"][0]["questions"][1].update(labels={9: "x"}))
    assert problems(data)[0][0] == "sections[0].questions[1].labels"


def test_options_on_yes_no_rejected():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(options=[{"value": "a"}, {"value": "b"}]))
    assert problems(data)[0][0] == "sections[0].questions[0].options"


def test_duplicate_option_values():
    data = mutate(lambda d: d["sections"][1]["questions"][0]["options"][1].update(value="yes"))
    assert problems(data)[0][0] == "sections[1].questions[0].options[1].value"


def test_unknown_type_has_its_path():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(type="essay"))
    assert problems(data)[0][0] == "sections[0].questions[0].type"


def test_unknown_field_has_its_path():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(pionts=2))
    assert problems(data) == [("sections[0].questions[0].pionts", "unknown field")]


def test_unknown_channel():
    data = mutate(lambda d: d.update(channels=["fax"]))
    assert problems(data)[0][0] == "channels[0]"


def test_no_channels():
    data = mutate(lambda d: d.update(channels=[]))
    assert problems(data)[0] == ("channels", "at least one channel required")


def test_no_points_anywhere_cannot_score():
    def change(d):
        d["sections"] = [{"id": "s", "title": "S", "questions": [{"id": "a", "text": "a", "type": "yes_no", "points": 0}]}]
    assert "cannot produce a score" in problems(mutate(change))[0][1]


def test_all_section_weights_zero_cannot_score():
    def change(d):
        for s in d["sections"]:
            s["weight"] = 0
    assert "cannot produce a score" in problems(mutate(change))[0][1]


def test_weights_on_some_sections_only():
    data = mutate(lambda d: d["sections"][0].update(weight=2))
    assert problems(data)[0][0] == "sections[1].weight"


def test_empty_section():
    data = mutate(lambda d: d["sections"][1].update(questions=[]))
    assert ("sections[1].questions", "at least one question required") in problems(data)


def test_bad_question_id():
    data = mutate(lambda d: d["sections"][0]["questions"][0].update(id="Bad Id"))
    assert problems(data)[0][0] == "sections[0].questions[0].id"


def test_many_problems_reported_at_once():
    def change(d):
        d["sections"][0]["questions"][0]["points"] = -1
        d["sections"][1]["questions"][1]["critical"] = True
    assert len(problems(mutate(change))) == 2


def test_yaml_problem_has_its_line():
    text = """key: k
name: K
channels: [chat]
sections:
  - id: s
    title: S
    questions:
      - id: a
        text: A
        type: choice
        options:
          - {value: x, points: 1}
"""
    with pytest.raises(InvalidInput) as info:
        parse_form_yaml(text)
    detail = info.value.details[0]
    assert detail["loc"] == "sections[0].questions[0].options" and detail["line"] == 11
    assert "line 11" in info.value.message


def test_yaml_syntax_error_has_its_line():
    with pytest.raises(InvalidInput) as info:
        parse_form_yaml("key: k\nname: [unclosed\n")
    assert info.value.details[0]["line"] is not None


def test_yaml_yes_no_condition_values():
    text = (SCORECARDS / "social_reply.yaml").read_text()
    form = parse_form_yaml(text)
    condition = form.question("moved_to_private").condition
    assert condition is not None and condition.equals is True


def test_not_a_mapping():
    assert problems([1, 2])[0] == ("(form)", "a scorecard form must be a mapping")
