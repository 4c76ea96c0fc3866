"""Bad bodies for the evaluations API (answers, disputes), on SQLite and PostgreSQL: wrong types are a 422
naming the field, control characters and huge comments are never a 5xx, and a hostile comment is shown
escaped on the evaluation page."""

import pytest

from tests.conftest import sign_in
from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction
from tests.integration.test_bad_inputs import _LiveCode


@pytest.fixture
def draft(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada", team="Billing")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, messages=3)
    sign_in(client, "eva")
    response = client.post("/api/evaluations", json={"interaction_id": interaction.id, "scorecard_id": scorecard_id})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("body", "field"), [
    ({"revision": "x", "answers": []}, "revision"),
    ({"revision": 1, "answers": "not a list"}, "answers"),
    ({"revision": 1, "answers": [{"question_id": "greeted", "value": "maybe"}]}, "answers[0].value: answer yes"),
    ({"revision": 1, "answers": [{"question_id": "tone", "value": 99}]}, "answers[0].value: answer an integer from 1 to 5"),
    ({"revision": 1, "answers": [{"question_id": "no_such_question", "value": True}]}, "no_such_question"),
    ({"revision": 1, "answers": [{"question_id": "greeted", "value": True, "evidence": [{"start": "soon"}]}]},
     "evidence"),
])
def test_wrong_types_in_answers_are_422_naming_the_field(client, draft, body, field, backend):
    response = client.put(f"/api/evaluations/{draft['id']}/answers", json={**body, "revision": body["revision"]
                                                                           if body["revision"] != 1 else draft["revision"]})
    assert response.status_code == 422, response.text
    assert field in response.text


def test_hostile_and_huge_comments_are_kept_or_refused_clearly_and_shown_escaped(client, draft, backend):
    hostile = "<script>alert('comment')</script><img src=x onerror=alert(1)> \u202eevil \U0001F468\u200d\U0001F469"
    answers = [*FULL_MARKS, {"question_id": "note", "value": hostile}]
    saved = client.put(f"/api/evaluations/{draft['id']}/answers", json={"revision": draft["revision"],
                                                                         "answers": answers})
    assert saved.status_code == 200, saved.text
    page = client.get(f"/evaluations/{draft['id']}")
    assert page.status_code == 200 and "&lt;script&gt;alert(" in page.text
    checker = _LiveCode()
    checker.feed(page.text)
    assert checker.found == []
    assert "script-src 'self'" in page.headers["content-security-policy"]

    revision = saved.json()["revision"]
    for value in ["nul\x00 in a comment", "x" * 200_000]:
        response = client.put(f"/api/evaluations/{draft['id']}/answers", json={
            "revision": revision, "answers": [*FULL_MARKS, {"question_id": "note", "value": value}]})
        assert response.status_code in (200, 422), response.text[:300]
        if response.status_code == 200:
            revision = response.json()["revision"]
