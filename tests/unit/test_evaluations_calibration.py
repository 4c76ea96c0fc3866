"""Krippendorff's alpha wrapper and the calibration results, against values worked out by hand or published."""

import math

from app.evaluations.calibration import compute_results, krippendorff_alpha
from app.scorecards.schema import parse_form

NAN = math.nan


def test_alpha_nominal_hand_worked():
    # Two raters, four binary units: (1,1) (0,0) (1,1) (0,1). Coincidences o00=2, o11=4, o01=o10=1; n=8,
    # n0=3, n1=5. Do = 2/8, De = 2*3*5/(8*7) = 30/56 → alpha = 1 - 0.25/(30/56) = 0.5333.
    assert krippendorff_alpha([[1, 0, 1, 0], [1, 0, 1, 1]], "nominal") == 0.5333


def test_alpha_published_example_with_missing_values():
    # The reliability data of Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", as used in
    # the krippendorff package's README: nominal 0.691, interval 0.811.
    data = [[NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
            [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
            [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4]]
    assert krippendorff_alpha(data, "nominal") == 0.6914
    assert krippendorff_alpha(data, "interval") == 0.8108


def test_alpha_perfect_agreement_on_varied_values_is_one():
    assert krippendorff_alpha([[1, 2, 3], [1, 2, 3]], "ordinal") == 1.0


def test_alpha_undefined_cases():
    assert krippendorff_alpha([[1, 1], [1, 1]], "nominal") is None  # one value only
    assert krippendorff_alpha([[1, 2, 3]], "nominal") is None  # one rater
    assert krippendorff_alpha([[1, NAN], [NAN, 2]], "nominal") is None  # nothing pairable


FORM = parse_form({"key": "c", "name": "C", "channels": ["call"], "sections": [{"id": "s", "title": "S", "questions": [
    {"id": "a", "text": "A", "type": "yes_no"},
    {"id": "b", "text": "B", "type": "yes_no", "na_allowed": True},
    {"id": "t", "text": "T", "type": "scale", "min": 1, "max": 5},
    {"id": "n", "text": "N", "type": "comment"}]}]})


def rating(evaluator_id, score, answers, gold=False):
    fractions = {}
    for qid, value in answers.items():
        if value == "N/A":
            continue
        fractions[qid] = (1.0 if value else 0.0) if isinstance(value, bool) else (value - 1) / 4
    return {"evaluator_id": evaluator_id, "evaluation_id": evaluator_id * 10, "is_gold": gold, "score": score,
            "answers": answers, "fractions": fractions}


def test_results_with_gold():
    ratings = [rating(1, 80.0, {"a": True, "b": True, "t": 4}),
               rating(2, 60.0, {"a": True, "b": False, "t": 3}),
               rating(3, 70.0, {"a": False, "b": "N/A", "t": 4}),
               rating(9, 75.0, {"a": True, "b": True, "t": 4}, gold=True)]
    results = compute_results(FORM, ratings)
    assert results["reference"] == "gold" and results["reference_score"] == 75.0
    a = next(q for q in results["questions"] if q["question_id"] == "a")
    assert a["modal"] is True and a["agreement"] == round(2 / 3, 4) and a["gold"] is True
    assert [x["matches_gold"] for x in a["answers"]] == [True, True, False]
    assert a["like_gold"] == {"same": 2, "of": 3}
    b = next(q for q in results["questions"] if q["question_id"] == "b")
    assert b["like_gold"] == {"same": 1, "of": 3}  # N/A is an answer, not the gold's yes
    assert [q["question_id"] for q in results["questions"]] == ["a", "b", "t"]  # comments are not compared
    assert results["score_spread"] == {"mean": 70.0, "min": 60.0, "max": 80.0, "range": 20.0, "stdev": 10.0}
    deviations = {d["evaluator_id"]: d for d in results["deviations"]}
    assert deviations[1]["score_deviation"] == 5.0 and deviations[1]["agreement_with_reference"] == 1.0
    assert deviations[2]["score_deviation"] == -15.0 and deviations[2]["agreement_with_reference"] == round(1 / 3, 4)
    assert deviations[3]["agreement_with_reference"] == round(1 / 3, 4)  # a differs, b N/A vs yes, t same
    assert 9 not in deviations  # the gold is the reference, not a rater
    alpha = results["alpha"]
    assert set(alpha) == {"nominal", "ordinal", "form_interval"}
    assert alpha["nominal"] is not None and -1.0 <= alpha["nominal"] <= 1.0


def test_results_without_gold_use_the_mean():
    ratings = [rating(1, 90.0, {"a": True, "b": True, "t": 5}), rating(2, 70.0, {"a": True, "b": True, "t": 3})]
    results = compute_results(FORM, ratings)
    assert results["reference"] == "mean" and results["reference_score"] == 80.0
    assert [d["score_deviation"] for d in results["deviations"]] == [10.0, -10.0]


def test_results_nominal_alpha_matches_hand_value():
    # Raters 1 and 2 on yes/no questions a, b: (yes, yes) and (no, yes) → nominal codes per question.
    ratings = [rating(1, 50.0, {"a": True, "b": True, "t": 1}), rating(2, 50.0, {"a": False, "b": True, "t": 5})]
    results = compute_results(FORM, ratings)
    expected = krippendorff_alpha([[0, 1], [2, 1]], "nominal")
    assert results["alpha"]["nominal"] == expected


def test_one_evaluator_against_the_gold_has_no_agreement_between_evaluators():
    """One evaluator besides the gold: nothing to agree with (it read 100 %, beside answers unlike the gold);
    how many answers are the gold's is what the page shows."""
    ratings = [rating(1, 40.0, {"a": False, "b": True, "t": 3}),
               rating(9, 100.0, {"a": True, "b": True, "t": 5}, gold=True)]
    questions = {q["question_id"]: q for q in compute_results(FORM, ratings)["questions"]}
    assert all(q["agreement"] is None for q in questions.values())
    assert questions["a"]["like_gold"] == {"same": 0, "of": 1} and questions["b"]["like_gold"] == {"same": 1, "of": 1}
    assert questions["t"]["like_gold"] == {"same": 0, "of": 1}
