import pytest

from app.nlp.agreement import agreement_by_question, cohen_kappa


def test_kappa_matches_the_published_worked_example():
    # Wikipedia, "Cohen's kappa", worked example (two readers, 50 grant proposals): both yes 20,
    # A yes / B no 5, A no / B yes 10, both no 15 -> p_o = 0.7, p_e = 0.5, kappa = 0.4.
    pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_kappa_edge_cases():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("yes", "yes")] * 5) == 1.0
    assert cohen_kappa([("yes", "no"), ("no", "yes")]) == pytest.approx(-1.0)


def test_agreement_by_question_on_hand_made_data():
    rows = ([("greeting", "yes", "yes")] * 8 + [("greeting", "no", "no")] * 2 + [("empathy", "yes", "no")] * 3
            + [("empathy", "no", "no")] * 1)
    report = {r.question_id: r for r in agreement_by_question(rows)}
    assert report["greeting"].accuracy == 1.0 and report["greeting"].kappa == 1.0
    assert report["greeting"].trust == "almost perfect"
    assert report["empathy"].accuracy == 0.25 and report["empathy"].kappa == pytest.approx(0.0)
    assert report["empathy"].confusion == {"no→no": 1, "yes→no": 3}
    assert report["empathy"].trust == "too few answers"
