"""Property-based tests (Hypothesis) of the scoring invariants over generated forms and answers."""

from hypothesis import given, settings
from hypothesis import strategies as st

from app.scorecards.schema import parse_form
from app.scorecards.scoring import AnswerInput, score


@st.composite
def forms_and_answers(draw):
    sections = []
    answers = []
    weighted = draw(st.booleans())
    n = 0
    for si in range(draw(st.integers(1, 4))):
        questions = []
        for _ in range(draw(st.integers(1, 4))):
            n += 1
            qid = f"q{n}"
            kind = draw(st.sampled_from(["yes_no", "scale", "choice"]))
            critical = kind != "scale" and draw(st.booleans())
            q = {"id": qid, "text": qid, "type": kind, "na_allowed": draw(st.booleans()), "critical": critical,
                 "critical_scope": draw(st.sampled_from(["form", "section"]))}
            if kind == "yes_no":
                q["points"] = draw(st.integers(1, 5))
                value = draw(st.booleans())
            elif kind == "scale":
                q.update(min=1, max=draw(st.integers(2, 10)), points=draw(st.integers(1, 5)))
                value = draw(st.integers(1, q["max"]))
            else:
                q["options"] = [{"value": "best", "points": 3}, {"value": "mid", "points": 1},
                                {"value": "bad", "points": 0, "fails_critical": critical}]
                value = draw(st.sampled_from(["best", "mid", "bad"]))
            na = q["na_allowed"] and draw(st.booleans())
            questions.append(q)
            answers.append(AnswerInput(question_id=qid, value=None if na else value, na=na))
        section = {"id": f"s{si}", "title": f"S{si}", "questions": questions}
        if weighted:
            section["weight"] = draw(st.integers(1, 5))
        sections.append(section)
    form = parse_form({"key": "p", "name": "P", "channels": ["chat"], "sections": sections})
    return form, answers


def _best(form):
    out = []
    for _, q in form.questions():
        value = True if q.type == "yes_no" else q.max if q.type == "scale" else "best"
        out.append(AnswerInput(question_id=q.id, value=value))
    return out


@settings(max_examples=150, deadline=None)
@given(forms_and_answers())
def test_score_is_bounded_and_critical_rules_hold(case):
    form, answers = case
    result = score(form, answers)
    assert result.score is None or 0.0 <= result.score <= 100.0
    for section in result.sections:
        assert section.score is None or 0.0 <= section.score <= 100.0
        assert section.earned <= section.possible + 1e-9
    form_failures = [q for q in result.questions if q.critical_failed
                     and form.question(q.question_id).critical_scope == "form"]
    if form_failures:
        assert result.score == 0.0
    if result.score is None:  # only when nothing scoreable was answered
        assert all(q.na or q.possible == 0 for q in result.questions)


@settings(max_examples=100, deadline=None)
@given(forms_and_answers())
def test_best_answers_score_100(case):
    form, _ = case
    assert score(form, _best(form)).score == 100.0


@settings(max_examples=100, deadline=None)
@given(forms_and_answers())
def test_na_never_changes_a_perfect_score(case):
    form, _ = case
    answers = [AnswerInput(question_id=a.question_id, na=True) if form.question(a.question_id).na_allowed else a
               for a in _best(form)]
    assert score(form, answers).score in (100.0, None)


@settings(max_examples=100, deadline=None)
@given(forms_and_answers())
def test_improving_one_answer_never_lowers_the_score(case):
    form, answers = case
    before = score(form, answers)
    if before.score is None:
        return
    for index, answer in enumerate(answers):
        if answer.na:
            continue
        question = form.question(answer.question_id)
        better = True if question.type == "yes_no" else question.max if question.type == "scale" else "best"
        improved = [*answers[:index], AnswerInput(question_id=answer.question_id, value=better), *answers[index + 1:]]
        assert score(form, improved).score >= before.score - 1e-9
