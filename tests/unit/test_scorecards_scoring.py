"""The scoring function: N/A, weights, critical (form vs section), conditions, comments — small cases
worked out by hand."""

import random

import pytest

from app.scorecards.schema import parse_form
from app.scorecards.scoring import AnswerError, AnswerInput, score


def form(sections, **extra):
    return parse_form({"key": "f", "name": "F", "channels": ["call"], "sections": sections, **extra})


def yn(qid, points=1, **kw):
    return {"id": qid, "text": qid, "type": "yes_no", "points": points, **kw}


def A(qid, value=None, na=False):  # noqa: N802
    return AnswerInput(question_id=qid, value=value, na=na)


def one_section(*questions, **kw):
    return form([{"id": "s", "title": "S", "questions": list(questions), **kw}])


def test_all_yes_is_100():
    f = one_section(yn("a"), yn("b"))
    assert score(f, [A("a", True), A("b", True)]).score == 100.0


def test_points_weigh_questions():
    f = one_section(yn("a", 3), yn("b", 1))
    assert score(f, [A("a", True), A("b", False)]).score == 75.0


def test_na_leaves_the_denominator():
    f = one_section(yn("a", 3), yn("b", 1, na_allowed=True))
    result = score(f, [A("a", True), A("b", na=True)])
    assert result.score == 100.0
    assert result.question("b").possible == 0 and result.question("b").na


def test_na_not_allowed_is_an_error():
    f = one_section(yn("a"))
    with pytest.raises(AnswerError):
        score(f, [A("a", na=True)])


def test_all_na_gives_no_score():
    f = one_section(yn("a", na_allowed=True))
    assert score(f, [A("a", na=True)]).score is None


def test_scale_is_linear_between_min_and_max():
    f = one_section({"id": "t", "text": "t", "type": "scale", "min": 1, "max": 5, "points": 4})
    assert [score(f, [A("t", v)]).score for v in (1, 2, 3, 5)] == [0.0, 25.0, 50.0, 100.0]


def test_scale_out_of_range_is_an_error():
    f = one_section({"id": "t", "text": "t", "type": "scale", "min": 1, "max": 5})
    with pytest.raises(AnswerError):
        score(f, [A("t", 6)])


def test_choice_points_and_best_option_as_possible():
    f = one_section({"id": "c", "text": "c", "type": "choice", "options": [
        {"value": "good", "points": 4}, {"value": "ok", "points": 1}, {"value": "bad", "points": 0}]})
    assert score(f, [A("c", "ok")]).score == 25.0


def test_unknown_option_is_an_error():
    f = one_section({"id": "c", "text": "c", "type": "choice", "options": [{"value": "x", "points": 1}, {"value": "y"}]})
    with pytest.raises(AnswerError):
        score(f, [A("c", "z")])


def test_yes_no_needs_a_bool():
    f = one_section(yn("a"))
    with pytest.raises(AnswerError):
        score(f, [A("a", "yes")])


def test_comment_is_not_scored():
    f = one_section(yn("a"), {"id": "n", "text": "n", "type": "comment"})
    result = score(f, [A("a", False), A("n", "needs work")])
    assert result.score == 0.0 and result.question("n").possible == 0


def test_section_weights():
    f = form([
        {"id": "s1", "title": "1", "weight": 3, "questions": [yn("a")]},
        {"id": "s2", "title": "2", "weight": 1, "questions": [yn("b", 10)]},
    ])
    assert score(f, [A("a", True), A("b", False)]).score == 75.0


def test_without_weights_sections_weigh_by_points():
    f = form([
        {"id": "s1", "title": "1", "questions": [yn("a", 1)]},
        {"id": "s2", "title": "2", "questions": [yn("b", 3)]},
    ])
    result = score(f, [A("a", True), A("b", False)])
    assert result.score == 25.0
    assert [s.score for s in result.sections] == [100.0, 0.0]


def test_section_with_only_na_is_left_out():
    f = form([
        {"id": "s1", "title": "1", "weight": 1, "questions": [yn("a")]},
        {"id": "s2", "title": "2", "weight": 1, "questions": [yn("b", na_allowed=True)]},
    ])
    result = score(f, [A("a", True), A("b", na=True)])
    assert result.score == 100.0 and result.sections[1].score is None


def test_critical_form_failure_zeroes_the_form():
    f = form([
        {"id": "s1", "title": "1", "questions": [yn("a", critical=True)]},
        {"id": "s2", "title": "2", "questions": [yn("b", 5)]},
    ])
    result = score(f, [A("a", False), A("b", True)])
    assert result.score == 0.0 and result.critical_failed and result.critical_failures == ["a"]
    assert result.sections[1].score == 100.0  # the breakdown still shows the rest


def test_critical_section_failure_zeroes_only_its_section():
    f = form([
        {"id": "s1", "title": "1", "weight": 1, "questions": [yn("a", critical=True, critical_scope="section"), yn("x")]},
        {"id": "s2", "title": "2", "weight": 1, "questions": [yn("b")]},
    ])
    result = score(f, [A("a", False), A("x", True), A("b", True)])
    assert result.sections[0].score == 0.0 and result.sections[0].critical_failed
    assert result.score == 50.0 and result.critical_failed


def test_critical_pass_is_normal():
    f = one_section(yn("a", critical=True), yn("b"))
    assert score(f, [A("a", True), A("b", False)]).score == 50.0


def test_critical_na_does_not_fail():
    f = one_section(yn("a", critical=True, na_allowed=True), yn("b"))
    result = score(f, [A("a", na=True), A("b", True)])
    assert result.score == 100.0 and not result.critical_failed


def test_critical_choice_option():
    f = one_section({"id": "c", "text": "c", "type": "choice", "critical": True, "options": [
        {"value": "ok", "points": 1}, {"value": "breach", "points": 0, "fails_critical": True},
        {"value": "weak", "points": 0}]}, yn("b"))
    assert score(f, [A("c", "breach"), A("b", True)]).score == 0.0
    assert score(f, [A("c", "weak"), A("b", True)]).score == 50.0


def test_condition_hides_question_and_its_answer():
    f = one_section(yn("asked", 0), yn("follow", 2, condition={"question_id": "asked", "equals": True}), yn("c"))
    hidden = score(f, [A("asked", False), A("follow", False), A("c", True)])
    assert hidden.score == 100.0 and not hidden.question("follow").visible
    shown = score(f, [A("asked", True), A("follow", False), A("c", True)])
    assert shown.question("follow").visible and round(shown.score, 2) == 33.33


def test_hidden_critical_question_cannot_fail():
    f = one_section(yn("data", 0), yn("verified", critical=True, condition={"question_id": "data", "equals": True}),
                    yn("c"))
    result = score(f, [A("data", False), A("verified", False), A("c", True)])
    assert result.score == 100.0 and not result.critical_failed


def test_condition_chain_hidden_parent_hides_child():
    f = one_section(yn("a", 0), yn("b", condition={"question_id": "a", "equals": True}),
                    yn("c", condition={"question_id": "b", "equals": True}), yn("d"))
    result = score(f, [A("a", False), A("b", True), A("c", True), A("d", True)])
    assert not result.question("b").visible and not result.question("c").visible


def test_missing_required_answers_listed():
    f = one_section(yn("a"), yn("b"), {"id": "n", "text": "n", "type": "comment"})
    result = score(f, [A("a", True)])
    assert result.missing == ["b"] and result.score == 100.0


def test_hidden_question_is_not_missing():
    f = one_section(yn("a", 1), yn("b", condition={"question_id": "a", "equals": True}))
    assert score(f, [A("a", False)]).missing == []


def test_required_comment_listed_when_missing():
    f = one_section(yn("a"), {"id": "n", "text": "n", "type": "comment", "required": True})
    assert score(f, [A("a", True)]).missing == ["n"]


def test_unknown_question_is_an_error():
    with pytest.raises(AnswerError):
        score(one_section(yn("a")), [A("zzz", True)])


def test_explanation_per_question():
    f = one_section(yn("a", 2), yn("b", 2))
    result = score(f, [A("a", True), A("b", False)]).to_dict()
    assert [(q["question_id"], q["earned"], q["possible"]) for q in result["questions"]] == [("a", 2, 2), ("b", 0, 2)]
    assert result["sections"][0]["earned"] == 2 and result["sections"][0]["possible"] == 4


def test_invariants_on_random_answers():
    """Score is in [0, 100]; all-best gives 100; a form-critical failure gives 0."""
    f = form([
        {"id": "s1", "title": "1", "questions": [yn("a", 2, na_allowed=True), yn("k", critical=True),
                                                 {"id": "t", "text": "t", "type": "scale", "min": 0, "max": 10}]},
        {"id": "s2", "title": "2", "questions": [{"id": "c", "text": "c", "type": "choice", "options": [
            {"value": "x", "points": 3}, {"value": "y", "points": 1}, {"value": "z", "points": 0}]}]},
    ])
    rng = random.Random(7)
    for _ in range(300):
        answers = [A("a", na=True) if rng.random() < 0.3 else A("a", rng.random() < 0.5),
                   A("k", rng.random() < 0.8), A("t", rng.randint(0, 10)), A("c", rng.choice("xyz"))]
        result = score(f, answers)
        assert result.score is not None and 0.0 <= result.score <= 100.0
        if answers[1].value is False:
            assert result.score == 0.0
    assert score(f, [A("a", True), A("k", True), A("t", 10), A("c", "x")]).score == 100.0
