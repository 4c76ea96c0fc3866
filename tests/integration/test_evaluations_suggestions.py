"""Auto-QA suggestions in the evaluation form: offered with confidence and evidence, pre-selected, kept or
changed on submit, reported per question; the queue, submit-and-next, one evaluation per evaluator."""

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.evaluations import service, suggestions
from app.evaluations.models import EvaluationAssignment, EvaluationSuggestion
from app.nlp.models import AutoAnswerRow
from tests.conftest import sign_in
from tests.integration.evaluations_support import load_small_form, make_interaction

FIELDS = {"answer__greeted": "yes", "answer__tone": "4", "answer__resolved": "yes", "answer__verified": "yes"}


def _auto(session, interaction, question_id="greeted", value="yes", evidence=None):
    session.add(AutoAnswerRow(interaction_id=interaction.id, question_id=question_id, value=value, confidence=0.9,
                              summary="greeting found in the first 20 s",
                              evidence=evidence or [{"kind": "span", "source_type": "segment", "source_id": 1,
                                                     "speaker": "agent", "start_time": 1.5, "end_time": 3.0,
                                                     "category": "greeting", "text": "Hello, Jane Doe here"}]))
    session.commit()


def _start(client, interaction_id, scorecard_id):
    created = client.post("/evaluations/new", data={"interaction_id": interaction_id, "scorecard_id": scorecard_id},
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    return int(re.match(r"/evaluations/(\d+)", created.headers["location"]).group(1))


def test_suggestion_offered_kept_and_reported(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    call = make_interaction(session, agent_id=agent.id, channel="call", segments=3)
    _auto(session, call)
    _auto(session, call, question_id="verified", value="no",
          evidence=[{"kind": "note", "note": "no identity check found"}])
    sign_in(client, "eva")
    # the call page loads the analysis panel (sentiment, categories, auto-QA) and links the analytics page
    call_page = client.get(f"/interactions/{call.id}").text
    assert f'data-analytics-panel="/interactions/{call.id}/analytics/panel"' in call_page
    assert f'href="/analytics/interactions/{call.id}"' in call_page
    assert 'class="nlp-panel"' in client.get(f"/interactions/{call.id}/analytics/panel").text
    evaluation_id = _start(client, call.id, scorecard_id)
    page = client.get(f"/evaluations/{evaluation_id}/edit")
    assert "Auto-QA suggests" in page.text and "90 % confident" in page.text
    # evidence plays the call from its time; the quoted text is not copied into the form
    assert 'data-seek="1.5"' in page.text and "Jane Doe" not in page.text
    assert re.search(r'name="answer__greeted" value="yes" checked', page.text)  # pre-selected
    assert 'data-refs="0:01-0:03"' in page.text
    # the evaluator keeps "greeted" (with its evidence) and overrides "verified"
    done = client.post(f"/evaluations/{evaluation_id}/edit",
                       data={**FIELDS, "evidence__greeted": "0:01-0:03", "action": "submit"}, follow_redirects=False)
    assert done.status_code == 303
    rows = {s.question_id: s for s in session.exec(select(EvaluationSuggestion)).all()}
    assert (rows["greeted"].outcome, rows["greeted"].final_value) == ("accepted", "yes")
    assert (rows["verified"].outcome, rows["verified"].final_value) == ("changed", "yes")
    assert "Jane Doe" not in str(rows["greeted"].evidence)
    report = client.get("/evaluations/suggestions")
    assert report.status_code == 200
    flat = re.sub(r">\s+<", "><", report.text)
    assert "<td>Greeted</td><td>1</td><td>1</td><td>0</td><td>100 %</td>" in flat
    assert "<td>Verified identity</td><td>1</td><td>0</td><td>1</td><td>0 %</td>" in flat
    csv = client.get("/evaluations/suggestions?format=csv")
    assert "greeted,Greeted,1,1,0" in csv.text


def test_chat_suggestion_links_to_its_message(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    chat = make_interaction(session, agent_id=agent.id, channel="chat", messages=2)
    from app.interactions.models import Message
    message_id = session.exec(select(Message.id).where(Message.interaction_id == chat.id)).first()
    _auto(session, chat, evidence=[{"kind": "span", "source_type": "message", "source_id": message_id,
                                    "speaker": "agent", "start_time": 30.0, "category": "greeting"}])
    sign_in(client, "eva")
    evaluation_id = _start(client, chat.id, scorecard_id)
    page = client.get(f"/evaluations/{evaluation_id}/edit")
    assert f'href="#m-{message_id}"' in page.text and f'data-refs="#{message_id}"' in page.text


def test_calibration_and_unanswerable_questions_get_no_suggestion(session, make_user):
    from app.auth.service import principal_of
    evaluator = principal_of(make_user("evaluator", username="eva"))
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    chat = make_interaction(session, agent_id=agent.id)
    _auto(session, chat, question_id="verified", value="na")  # "verified" does not allow N/A
    _auto(session, chat, question_id="tone", value="yes")  # a scale question: auto-QA answers only yes/no
    evaluation = service.create(session=session, principal=evaluator, interaction_id=chat.id,
                                scorecard_id=scorecard_id)
    assert suggestions.of_evaluation(session=session, evaluation_id=evaluation.id) == {}


def test_same_evaluator_does_not_score_twice_unless_asked(client, session, make_user):
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    chat = make_interaction(session, agent_id=agent.id)
    sign_in(client, "eva")
    first = _start(client, chat.id, scorecard_id)
    again = client.post("/evaluations/new", data={"interaction_id": chat.id, "scorecard_id": scorecard_id},
                        follow_redirects=False)
    assert again.headers["location"] == f"/evaluations/{first}?flash=already_evaluated"
    api = client.post("/api/evaluations", json={"interaction_id": chat.id, "scorecard_id": scorecard_id})
    assert api.status_code == 409 and api.json()["error"]["code"] == "already_evaluated"
    chooser = client.get(f"/evaluations/new?interaction_id={chat.id}")
    assert "You already evaluated this interaction" in chooser.text and "Evaluate again" in chooser.text
    second = client.post("/evaluations/new", data={"interaction_id": chat.id, "scorecard_id": scorecard_id,
                                                   "again": "1"}, follow_redirects=False)
    assert second.status_code == 303 and f"/evaluations/{first}/" not in second.headers["location"]
    assert second.headers["location"].endswith("/edit")


def test_queue_rows_and_submit_and_next(client, session, make_user):
    eva = make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    now = datetime.now(UTC)
    calls = [make_interaction(session, agent_id=agent.id, channel="call", queue="Billing", segments=2)
             for _ in range(3)]
    for n, call in enumerate(calls):
        _auto(session, call)
        session.add(EvaluationAssignment(interaction_id=call.id, agent_id=agent.id, evaluator_id=eva.id,
                                         scorecard_id=scorecard_id, due_at=now + timedelta(days=2 * n - 1)))
    session.commit()
    sign_in(client, "eva")
    queue = client.get("/evaluations/queue")
    assert queue.text.count('class="overdue"') == 1 and "1 overdue" in queue.text and "Billing" in queue.text
    assert client.get("/evaluations/queue?overdue=1").text.count("Evaluate</a>") == 1
    # from the queue, without typing an id: Evaluate → Start → accept → Submit and next, three times
    link = re.search(r'href="(/evaluations/new\?interaction_id=\d+&amp;assignment_id=\d+)"', queue.text).group(1)
    chooser = client.get(link.replace("&amp;", "&"))
    form = dict(re.findall(r'name="(interaction_id|assignment_id|scorecard_id)" value="(\d*)"', chooser.text))
    started = client.post("/evaluations/new", data={**form, "scorecard_id": scorecard_id}, follow_redirects=False)
    location = started.headers["location"]
    seen = []
    for _ in calls:
        evaluation_id = int(re.match(r"/evaluations/(\d+)/edit", location).group(1))
        page = client.get(location)
        assert "Auto-QA suggests" in page.text
        seen.append(evaluation_id)
        done = client.post(f"/evaluations/{evaluation_id}/edit",
                           data={**FIELDS, "evidence__greeted": "0:01-0:03", "action": "submit_next"},
                           follow_redirects=False)
        location = done.headers["location"]
    assert location == "/evaluations/queue?flash=queue_empty"
    assert "Your queue is empty" in client.get(location).text
    assert len(set(seen)) == 3
    kept = session.exec(select(EvaluationSuggestion).where(EvaluationSuggestion.outcome == "accepted")).all()
    assert len(kept) == 3


def test_pick_an_interaction_by_customer_name(client, session, make_user):
    from app.interactions.models import Customer
    make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    customer = Customer(display_name="Jolene Parton")
    session.add(customer)
    session.flush()
    chat = make_interaction(session, agent_id=agent.id)
    chat.customer_id = customer.id
    session.add(chat)
    session.commit()
    sign_in(client, "eva")
    found = client.get("/evaluations/new?q=jolene")
    assert "Jolene Parton" in found.text and f"/evaluations/new?interaction_id={chat.id}" in found.text
    # a non-number id (an old link, a typo) searches instead of answering with an error
    assert client.get("/evaluations/new?interaction_id=jolene").status_code == 200


def test_scoring_a_queued_interaction_from_anywhere_clears_the_queue_item(client, session, make_user):
    eva = make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    chat = make_interaction(session, agent_id=agent.id)
    item = EvaluationAssignment(interaction_id=chat.id, agent_id=agent.id, evaluator_id=eva.id,
                                due_at=datetime.now(UTC) + timedelta(days=2))
    session.add(item)
    session.commit()
    sign_in(client, "eva")
    evaluation_id = _start(client, chat.id, scorecard_id)  # from the call page: no assignment id given
    client.post(f"/evaluations/{evaluation_id}/edit", data={**FIELDS, "action": "submit"})
    session.refresh(item)
    assert item.status == "done"
    assert "Nothing assigned" in client.get("/evaluations/queue").text
