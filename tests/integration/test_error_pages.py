"""One error path: browsers get a page in the site's layout, API clients the JSON shape; messages in plain
words; form errors beside their question."""

from tests.conftest import sign_in
from tests.integration.evaluations_support import load_small_form, make_interaction

HTML = {"accept": "text/html,application/xhtml+xml"}


def test_browser_gets_pages_and_api_keeps_json(client, make_user):
    make_user("evaluator", username="eva")
    sign_in(client, "eva")
    missing = client.get("/this-page-does-not-exist", headers=HTML)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text and '"error"' not in missing.text and 'class="mainnav"' in missing.text
    wrong_method = client.delete("/evaluations/queue", headers=HTML)
    assert wrong_method.status_code == 405 and "not available here" in wrong_method.text
    bad_param = client.get("/evaluations?page=abc", headers=HTML)
    assert bad_param.status_code == 422 and bad_param.headers["content-type"].startswith("text/html")
    assert "page</b> should be a whole number" in bad_param.text and "Input should be" not in bad_param.text
    api = client.get("/api/this-does-not-exist", headers=HTML)  # /api is for programs, whatever they accept
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    api_bad = client.get("/api/evaluations?per_page=abc")
    body = api_bad.json()["error"]
    assert api_bad.status_code == 422 and body["code"] == "invalid_input"
    assert body["details"] == [{"loc": "query.per_page", "msg": "should be a whole number"}]


def test_unexpected_failure_is_a_page_not_a_traceback(app, client, make_user):
    from fastapi.testclient import TestClient

    @app.get("/boom-for-test")
    def boom() -> None:
        raise RuntimeError("internal detail that must not show")

    quiet = TestClient(app, raise_server_exceptions=False)
    page = quiet.get("/boom-for-test", headers=HTML)
    assert page.status_code == 500 and "Something went wrong" in page.text and "internal detail" not in page.text
    api = quiet.get("/boom-for-test")
    assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"


def test_incomplete_form_marks_each_question_in_its_words(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    chat = make_interaction(session, agent_id=agent.id, messages=1)
    sign_in(client, "eva")
    created = client.post("/evaluations/new", data={"interaction_id": chat.id, "scorecard_id": scorecard_id},
                          follow_redirects=False)
    edit = created.headers["location"]
    page = client.post(edit, data={"answer__greeted": "yes", "evidence__tone": "soon", "action": "submit"})
    assert page.status_code == 422
    assert "needs your attention" in page.text or "need your attention" in page.text
    assert page.text.count('class="field-error"') == 1  # the evidence field cannot be read: that comes first
    assert "Evidence: &#39;soon&#39; is not a time" in page.text and "evidence__tone" not in page.text.split("<form")[0]
    page = client.post(edit, data={"answer__greeted": "yes", "action": "submit"})
    assert page.status_code == 422 and "3 questions need your attention" in page.text
    assert page.text.count("Answer this question before submitting.") == 3
    # no internal question ids in the messages
    alert = page.text.split('role="alert"')[1].split("</div>")[0]
    assert "verified" not in alert and "answers." not in alert
