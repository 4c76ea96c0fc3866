"""The form-test report on a constructed reference set whose score changes are computed by hand.

The form (two sections of weight 1, so a score is the mean of the two section scores):
  manner:  greeted (yes/no, 1 pt), tone (scale 1-5, 4 pt)  → manner = 20 × (greeted + tone − 1)
  process: hold (choice: ok 2 pt, late 1 pt, none 0 pt)   → every evaluation below answered "late": 50

  evaluation  greeted tone  manner  score (= (manner + 50) / 2)
  1           yes     5     100     75
  2           yes     3      60     55
  3           no      5      80     65
  4           yes     4      80     65
  5           no      1       0     25
  6           yes     2      40     45
"""

import copy
from typing import Any

import pytest

from app.scorecards.form_diff import FormChange, apply_change, diff_forms
from app.scorecards.formtest import build_report
from app.scorecards.reference import ReferenceEvaluation
from app.scorecards.schema import ScorecardForm, parse_form
from app.scorecards.scoring import AnswerInput

FORM: dict[str, Any] = {
    "key": "ref", "name": "Reference", "channels": ["call"],
    "sections": [
        {"id": "manner", "title": "Manner", "weight": 1, "questions": [
            {"id": "greeted", "text": "Greeted", "type": "yes_no", "points": 1},
            {"id": "tone", "text": "Tone", "type": "scale", "min": 1, "max": 5, "points": 4}]},
        {"id": "process", "title": "Process", "weight": 1, "questions": [
            {"id": "hold", "text": "Hold etiquette", "type": "choice", "options": [
                {"value": "ok", "points": 2}, {"value": "late", "points": 1}, {"value": "none", "points": 0}]}]},
    ],
}
ANSWERS = [(True, 5), (True, 3), (False, 5), (True, 4), (False, 1), (True, 2)]
OLD_SCORES = [75.0, 55.0, 65.0, 65.0, 25.0, 45.0]


def form() -> ScorecardForm:
    return parse_form(FORM)


def edited(change: Any) -> ScorecardForm:
    data = copy.deepcopy(FORM)
    change(data)
    return parse_form(data)


def reference(base: ScorecardForm | None = None, answers: list[tuple[bool, int]] = ANSWERS,
              hold: str = "late") -> list[ReferenceEvaluation]:
    base = base or form()
    return [ReferenceEvaluation(evaluation_id=i, interaction_id=100 + i, version_number=1, form=base, answers=(
        AnswerInput("greeted", greeted), AnswerInput("tone", tone), AnswerInput("hold", hold)))
        for i, (greeted, tone) in enumerate(answers, 1)]


def by_id(report: Any) -> dict[int, Any]:
    return {e.evaluation_id: e for e in report.evaluations}


def test_an_option_worth_more_moves_every_score_by_25():
    # "late" 1 → 2 points: process 50 → 100 for everybody, so every score moves by (100 − 50) / 2 = +25
    def late_worth_two(data: dict[str, Any]) -> None:
        data["sections"][1]["questions"][0]["options"][1]["points"] = 2

    report = build_report(edited(late_worth_two), reference(), draft_number=2, target=80)
    assert [e.old_score for e in report.evaluations] == OLD_SCORES
    assert [e.new_score for e in report.evaluations] == [100.0, 80.0, 90.0, 90.0, 50.0, 70.0]
    assert {e.delta for e in report.evaluations} == {25.0}
    assert report.shift.estimate == pytest.approx(25.0)
    assert (report.shift.low, report.shift.high) == (pytest.approx(25.0), pytest.approx(25.0))
    assert report.old_mean.estimate == pytest.approx(55.0) and report.new_mean.estimate == pytest.approx(80.0)
    # target 80: nobody passed before; 1, 2, 3, 4 reach it now
    assert [e.evaluation_id for e in report.fail_to_pass] == [1, 2, 3, 4] and report.pass_to_fail == []
    [effect] = report.effects
    assert effect.change == FormChange("hold", "changed", "options changed")
    assert effect.mean_effect == 25.0 and effect.moved == 6 and effect.flips == 4 and effect.answered == 6
    assert report.combined_effect == 0.0
    assert report.needs_review and report.shift_excludes_zero
    assert report.summary()["shift"] == 25.0 and report.summary()["fail_to_pass"] == 4
    labels, now, draft = report.histogram()
    assert labels[0] == "0–9" and labels[-1] == "90–100"
    assert now == [0, 0, 1, 0, 1, 1, 2, 1, 0, 0] and draft == [0, 0, 0, 0, 0, 1, 0, 1, 1, 3]


def test_a_new_question_has_no_answer_and_moves_nothing():
    def add_closing(data: dict[str, Any]) -> None:
        data["sections"][0]["questions"].append({"id": "closing", "text": "Closed well", "type": "yes_no"})

    report = build_report(edited(add_closing), reference())
    assert [e.new_score for e in report.evaluations] == OLD_SCORES
    assert all(e.unanswered == ["closing"] for e in report.evaluations)
    assert [(x.change.kind, x.change.key, x.mean_effect, x.answered) for x in report.effects] == [
        ("added", "closing", 0.0, 0)]
    assert report.shift.estimate == 0.0 and not report.needs_review
    assert report.verdict == "No measurable change to scores on the reference set."


def test_a_removed_question_drops_its_answer():
    # without greeted, manner = 25 × (tone − 1); score moves by (new manner − old manner) / 2:
    #   1: (100−100)/2 = 0   2: (50−60)/2 = −5   3: (100−80)/2 = +10   4: (75−80)/2 = −2.5
    #   5: (0−0)/2 = 0       6: (25−40)/2 = −7.5          mean = −5 / 6 = −0.833
    def drop_greeted(data: dict[str, Any]) -> None:
        del data["sections"][0]["questions"][0]

    report = build_report(edited(drop_greeted), reference())
    assert [e.delta for e in report.evaluations] == [0.0, -5.0, 10.0, -2.5, 0.0, -7.5]
    assert report.shift.estimate == pytest.approx(-5 / 6)
    assert report.shift.low is not None and report.shift.low < 0 < report.shift.high  # not a measurable shift
    [effect] = report.effects
    assert (effect.change.kind, effect.change.key, effect.mean_effect, effect.moved) == ("removed", "greeted", -0.83, 4)
    assert report.changed == 4
    assert report.needs_review is False  # the interval includes 0 and nobody crosses the 80 target


def test_a_new_critical_flag_flips_pass_fail_where_greeted_was_no():
    # greeted becomes critical for the form: evaluations 3 (65) and 5 (25) answered no → 0.
    # Target 60: evaluation 3 passed (65) and now fails; 5 failed already; 1 and 4 keep passing.
    def greeted_critical(data: dict[str, Any]) -> None:
        data["sections"][0]["questions"][0]["critical"] = True

    report = build_report(edited(greeted_critical), reference(), target=60)
    changes = by_id(report)
    assert (changes[3].old_score, changes[3].new_score, changes[3].new_critical) == (65.0, 0.0, True)
    assert (changes[5].old_score, changes[5].new_score) == (25.0, 0.0)
    assert [e.evaluation_id for e in report.pass_to_fail] == [3] and report.fail_to_pass == []
    assert report.critical_flips == 2
    assert report.shift.estimate == pytest.approx(-(65 + 25) / 6)
    [effect] = report.effects
    assert effect.change.description == "critical no → yes" and effect.flips == 1
    assert report.needs_review
    assert [m.evaluation_id for m in report.movers] == [3, 5]


def test_changes_that_interact_show_a_combined_part():
    # "late" 1 → 2 alone: +25 each. process weight 1 → 3 alone: (m + 150)/4 − (m + 50)/2 = (50 − m)/4.
    # Both: (m + 300)/4 − (m + 50)/2 = (200 − m)/4, which exceeds the sum of the two by 50/4 = 12.5.
    def both(data: dict[str, Any]) -> None:
        data["sections"][1]["questions"][0]["options"][1]["points"] = 2
        data["sections"][1]["weight"] = 3

    report = build_report(edited(both), reference())
    manners = [100, 60, 80, 80, 0, 40]
    assert [e.delta for e in report.evaluations] == [(200 - m) / 4 for m in manners]
    effects = {x.change.key: x.mean_effect for x in report.effects}
    assert effects == {"section:process": round(sum((50 - m) / 4 for m in manners) / 6, 2), "hold": 25.0}
    assert report.combined_effect == 12.5


def test_an_answer_that_no_longer_fits_is_dropped_and_listed():
    # the "late" option disappears: hold is unanswered, process has no score, the score is manner alone
    def no_late(data: dict[str, Any]) -> None:
        del data["sections"][1]["questions"][0]["options"][1]

    report = build_report(edited(no_late), reference())
    assert all(e.dropped == ["hold"] and e.unanswered == ["hold"] for e in report.evaluations)
    assert [e.new_score for e in report.evaluations] == [100.0, 60.0, 80.0, 80.0, 0.0, 40.0]


def test_empty_or_tiny_reference_sets_say_so():
    empty = build_report(form(), [])
    assert empty.shift.estimate is None and not empty.needs_review and not empty.enough
    assert "not enough evaluations to say" in empty.verdict

    def late_worth_two(data: dict[str, Any]) -> None:
        data["sections"][1]["questions"][0]["options"][1]["points"] = 2

    tiny = build_report(edited(late_worth_two), reference()[:2], target=99)
    assert not tiny.enough and tiny.needs_review  # too few to say, but scores do change
    assert "not enough evaluations to say" in tiny.verdict
    unchanged = build_report(form(), reference()[:2])
    assert not unchanged.needs_review


def test_auto_rule_disagreement_with_the_evaluators():
    def greeted_auto(data: dict[str, Any]) -> None:
        data["sections"][0]["questions"][0]["auto_answer"] = {"rule": "phrase", "params": {"category": "greeting"}}

    # humans: 1 yes, 2 yes, 3 no, 4 yes, 5 no, 6 yes; the rule says yes everywhere except 4 (no) and
    # cannot tell on 6 → compared 5, disagreeing on 3 (auto yes, human no), 4 and 5
    auto = {100 + i: {"greeted": ("yes", "greeting found")} for i in range(1, 6)}
    auto[104] = {"greeted": ("no", "greeting not found")}
    auto[106] = {"greeted": ("na", "no turns by the agent")}
    report = build_report(edited(greeted_auto), reference(), auto_answers=auto)
    [check] = report.auto_checks
    assert (check.compared, check.disagreed, check.could_not_tell) == (5, 3, 1)
    assert check.rate.estimate == pytest.approx(0.6)
    assert [(d.evaluation_id, d.human, d.auto) for d in check.disagreements] == [
        (3, "no", "yes"), (4, "yes", "no"), (5, "no", "yes")]
    assert report.effects == []  # an auto rule does not change a score


def test_diff_names_what_changed_and_apply_change_isolates_it():
    def several(data: dict[str, Any]) -> None:
        data["sections"][0]["questions"][0]["text"] = "Greeted warmly"  # wording: not a scoring change
        data["sections"][0]["questions"][1]["points"] = 8
        data["sections"][0]["questions"][1]["guidance"] = "new guidance"

    draft = edited(several)
    assert diff_forms(form(), draft) == [FormChange("tone", "changed", "points 4.0 → 8.0")]
    alone = apply_change(form(), draft, FormChange("tone", "changed", ""))
    assert alone.question("tone").points == 8 and alone.question("greeted").text == "Greeted"
    moved = copy.deepcopy(FORM)
    moved["sections"][1]["questions"].append(moved["sections"][0]["questions"].pop(0))
    [change] = diff_forms(form(), parse_form(moved))
    assert change.description == "moved from manner to process"
    assert [q.id for q in apply_change(form(), parse_form(moved), change).sections[1].questions] == ["hold", "greeted"]
