"""Simultaneous requests against a real server database (not the per-test shared connection): sign-in
throttle counting, write transactions and audited reads under concurrent writers, on SQLite and PostgreSQL."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth.deps import SessionDep
from app.auth.models import Team
from app.core.db import make_engine, session_factory, session_scope
from app.core.settings import Settings
from app.main import WriteTransactions
from tests.conftest import TEST_PASSWORD
from tests.integration.server_support import add_user, at_once, query, sign_in_as


def test_thirty_simultaneous_wrong_passwords_are_each_counted_and_lock_the_user_out(server, server_settings):
    add_user(server_settings, "ada", ["agent"])
    attempts = 32

    def wrong() -> int:
        return server.post("/api/auth/login", json={"username": "ada", "password": "wrong password"}).status_code

    statuses = at_once(lambda _n: wrong(), attempts)
    assert 500 not in statuses and set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) >= server_settings.login_max_failures
    counted = dict(query(server_settings, "SELECT username, failures FROM login_throttle"))
    # every failure that got past the lock-out check was counted: no lost update, no duplicate-row error
    assert counted["user:ada"] == statuses.count(401)
    assert counted["addr:testclient"] == statuses.count(401)
    right = server.post("/api/auth/login", json={"username": "ada", "password": TEST_PASSWORD})
    assert right.status_code == 429  # the lock-out holds even for the right password
    failed_audits = query(server_settings, "SELECT count(*) FROM audit_event WHERE action = 'auth.login_failed'")
    assert failed_audits[0][0] == statuses.count(401)


def test_failures_from_one_address_over_many_usernames_lock_that_address(server, server_settings, monkeypatch):
    server.app.state.settings.login_max_failures_per_address = 6
    add_user(server_settings, "bea", ["agent"])
    for n in range(6):
        refused = server.post("/api/auth/login", json={"username": f"guess{n}", "password": "x"})
        assert refused.status_code == 401
    blocked = server.post("/api/auth/login", json={"username": "bea", "password": TEST_PASSWORD})
    assert blocked.status_code == 429


def open_write_transactions(url: str) -> bool:
    """Whether some other connection holds a write transaction open right now."""
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            other.close()
    rows = query_url(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()")
    return bool(rows[0][0])


def query_url(url: str, sql: str) -> list[Any]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()


def test_a_write_request_commits_and_ends_its_transaction_before_the_response_is_sent(server_url):
    """The request boundary owns the transaction: the route's service only flushes; the boundary commits, and
    nothing (on SQLite: the write lock) stays open while FastAPI serialises and sends the answer."""
    engine = make_engine(server_url)
    app = FastAPI()
    app.state.sessions = session_factory(engine)
    seen_at_response_start: list[bool] = []

    class ProbeAtResponseStart:
        def __init__(self, inner: ASGIApp) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def probe(message: Message) -> None:
                if message["type"] == "http.response.start":
                    seen_at_response_start.append(open_write_transactions(server_url))
                await send(message)

            await self.inner(scope, receive, probe)

    app.add_middleware(WriteTransactions)
    app.add_middleware(ProbeAtResponseStart)

    @app.post("/teams")
    def add_team(session: SessionDep) -> dict[str, int]:
        session.add(Team(name="Night shift"))
        session.flush()  # a service flushes; it does not commit
        return {"teams": len(session.execute(text("SELECT id FROM team")).all())}  # and reads again after

    try:
        with TestClient(app) as client:
            assert client.post("/teams").json() == {"teams": 1}
        assert seen_at_response_start == [False]
        assert query_url(server_url, "SELECT name FROM team") == [("Night shift",)]  # committed at the boundary
    finally:
        engine.dispose()


def test_original_transcripts_read_while_others_write_are_served_and_audited_once_each(
        server, server_settings, backend):
    """An admin reading unredacted content while chat imports write: no 503 (the audit event used to be written
    inside the read's snapshot and was refused on SQLite when another writer had committed meanwhile), and
    exactly one audit event per read."""
    add_user(server_settings, "root", ["admin"])
    admin = sign_in_as(server, "root")
    lines = [{"conversation_id": "c0", "message_id": "c0-m0", "sent_at": "2026-12-01T10:00:00+00:00",
              "author_role": "customer", "author_name": "Customer", "customer_email": "c@example.com",
              "text": "My router is broken."}]
    first = server.post("/api/chats?source=test", json=lines, headers=admin)
    assert first.status_code == 200, first.text
    interaction_id = query(server_settings, "SELECT id FROM interaction")[0][0]
    reads, writes = 24, 24

    def read() -> int:
        return server.get(f"/api/interactions/{interaction_id}/transcript?view=original",
                          headers=admin).status_code

    def write(n: int) -> int:
        batch = [{**lines[0], "conversation_id": f"w{n}", "message_id": f"w{n}-m0"}]
        return server.post("/api/chats?source=test", json=batch, headers=admin).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        read_statuses = [pool.submit(read) for _ in range(reads)]
        write_statuses = [pool.submit(write, n) for n in range(writes)]
        statuses = [f.result() for f in read_statuses], [f.result() for f in write_statuses]
    assert statuses == ([200] * reads, [200] * writes)
    audited = query(server_settings, "SELECT count(*) FROM audit_event WHERE action = 'transcript.view_original'")
    assert audited[0][0] == reads


def test_simultaneous_imports_of_the_same_conversations_and_a_new_customer_store_each_once(
        server, server_settings):
    """Twelve chat imports sent at once, each carrying the same two conversations (growing message by message;
    half of the requests list them in the other order) and a customer no import has seen yet: every request
    succeeds, every message is stored once, each conversation is one interaction and the customer one customer
    with one identity."""
    add_user(server_settings, "root", ["admin"])
    add_user(server_settings, "ada", ["agent"])
    admin = sign_in_as(server, "root")
    requests = 12

    def lines(n: int) -> list[dict[str, Any]]:
        return [{"conversation_id": conversation, "message_id": f"{conversation}-m{m}",
                 "sent_at": f"2026-12-01T10:{m:02d}:00+00:00", "author_role": "customer" if m % 2 == 0 else "agent",
                 "author_name": "Customer" if m % 2 == 0 else "Ada", "agent": "ada",
                 "customer_email": "new.customer@example.com", "text": f"Message {m} of {conversation}."}
                for conversation in ("shared-a", "shared-b")[::1 if n % 2 else -1] for m in range(n + 1)]

    def send(n: int) -> tuple[int, Any]:
        response = server.post("/api/chats?source=race", json=lines(n), headers=admin)
        return response.status_code, response.json()

    answers = at_once(send, requests)
    assert [status for status, _ in answers] == [200] * requests, answers
    assert [report["rejected"] for _, report in answers] == [[]] * requests, answers
    interactions = query(server_settings, "SELECT external_id, customer_id FROM interaction WHERE source = 'race'")
    assert sorted(external_id for external_id, _ in interactions) == ["shared-a", "shared-b"]
    assert len({customer_id for _, customer_id in interactions}) == 1
    identities = query(server_settings, "SELECT customer_id FROM customer_identity WHERE value = :v",
                       v="new.customer@example.com")
    assert [row[0] for row in identities] == [interactions[0][1]]
    messages = query(server_settings, "SELECT external_id FROM message")
    assert sorted(row[0] for row in messages) == sorted(line["message_id"] for line in lines(requests - 1))


def test_simultaneous_imports_crossing_new_customers_store_each_once(server, server_settings):
    """Imports sent at once whose conversations name two new customers in opposite orders (on PostgreSQL two
    such imports wait for each other until the database ends one as a deadlock's victim; that import is
    written again): every request succeeds and each customer is stored once with all its conversations."""
    add_user(server_settings, "root", ["admin"])
    admin = sign_in_as(server, "root")
    requests = 8

    def lines(n: int) -> list[dict[str, Any]]:
        first, second = ("x", "y") if n % 2 else ("y", "x")
        return [{"conversation_id": f"r{n}-{slot}", "message_id": f"r{n}-{slot}-m0",
                 "sent_at": "2026-12-01T10:00:00+00:00", "author_role": "customer", "author_name": "Customer",
                 "customer_email": f"{who}@example.com", "text": f"Request {n} for {who}."}
                for slot, who in (("1", first), ("2", second))]

    def send(n: int) -> tuple[int, Any]:
        response = server.post("/api/chats?source=cross", json=lines(n), headers=admin)
        return response.status_code, response.json()

    answers = at_once(send, requests)
    assert [(status, report.get("created"), report.get("rejected")) for status, report in answers] \
        == [(200, 2, [])] * requests, answers
    owners = query(server_settings, "SELECT value, customer_id FROM customer_identity")
    assert sorted(value for value, _ in owners) == ["x@example.com", "y@example.com"]
    by_customer = dict(query(server_settings, "SELECT customer_id, count(*) FROM interaction GROUP BY customer_id"))
    assert sorted(by_customer.values()) == [requests, requests]
    assert query(server_settings, "SELECT count(*) FROM message")[0][0] == 2 * requests


def test_a_webhook_delivered_several_times_at_once_is_stored_once(server, server_settings):
    """A contact-center platform redelivering the same new interaction while the first delivery is still being
    written (a retry after a timeout): every delivery is answered 200, one of them "created", and the
    interaction, its customer and its messages exist once."""
    add_user(server_settings, "root", ["admin"])
    add_user(server_settings, "ada", ["agent"])
    admin = sign_in_as(server, "root")
    token = server.post("/api/tokens", json={"name": "crm"}, headers=admin).json()["token"]
    delivery = {"source": "ccaas", "external_id": "w-1", "channel": "chat", "agent": "ada",
                "started_at": "2026-12-01T10:00:00+00:00", "customer": {"email": "wendy@example.com", "name": "Wendy"},
                "messages": [{"external_id": str(m), "author_role": "customer", "sent_at": "2026-12-01T10:00:00+00:00",
                              "text": f"Hello {m}"} for m in range(3)]}
    deliveries = 10

    def send(_n: int) -> tuple[int, Any]:
        response = server.post("/api/webhooks/interactions", json=delivery,
                               headers={"authorization": f"Bearer {token}"})
        return response.status_code, response.json()

    answers = at_once(send, deliveries)
    assert [status for status, _ in answers] == [200] * deliveries, answers
    assert sorted(answer["status"] for _, answer in answers) == ["created"] + ["unchanged"] * (deliveries - 1)
    assert len({answer["interaction_id"] for _, answer in answers}) == 1
    assert query(server_settings, "SELECT count(*) FROM interaction")[0][0] == 1
    assert query(server_settings, "SELECT count(*) FROM customer_identity")[0][0] == 1
    assert query(server_settings, "SELECT count(*) FROM message")[0][0] == 3


def test_the_same_call_uploaded_several_times_at_once_is_stored_once(server, server_settings):
    """A recorder's upload retried while the first is still being written: every upload is answered 200, and the
    call, its recording and its new customer exist once."""
    import io
    import json
    import wave

    add_user(server_settings, "root", ["admin"])
    add_user(server_settings, "ada", ["agent"])
    admin = sign_in_as(server, "root")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:  # one second of silence, 8 kHz mono
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(16000))
    metadata = json.dumps({"external_id": "call-1", "source": "recorder", "started_at": "2026-12-01T10:00:00+00:00",
                           "agent": "ada", "customer": {"phone": "+44 20 7946 0000", "name": "Pat"}})
    uploads = 6

    def send(_n: int) -> tuple[int, Any]:
        response = server.post("/api/recordings", data={"metadata": metadata}, headers=admin,
                               files={"file": ("call-1.wav", buffer.getvalue(), "audio/wav")})
        return response.status_code, response.json()

    answers = at_once(send, uploads)
    assert {status for status, _ in answers} <= {200, 201} and len(answers) == uploads, answers
    assert len({answer["recording_id"] for _, answer in answers}) == 1, answers
    assert query(server_settings, "SELECT count(*) FROM interaction")[0][0] == 1
    assert query(server_settings, "SELECT count(*) FROM recording")[0][0] == 1
    assert query(server_settings, "SELECT count(*) FROM customer_identity")[0][0] == 1


def test_survey_deliveries_at_once_store_each_response_and_open_each_case_once(server, server_settings):
    """A survey tool sending overlapping batches at the same time (its retries, or two of its servers; half of
    them list the responses in the other order, so on PostgreSQL some meet in a deadlock): every delivery is
    answered 200, each response is stored once and each bad rating opens one review case."""
    import json

    from app.surveys import service as surveys
    from app.surveys.imports import sign

    engine = make_engine(server_settings.resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            secret = surveys.create_source(session=session, name="pulse", actor=None).webhook_secret
    finally:
        engine.dispose()
    deliveries = 10

    def send(n: int) -> tuple[int, Any]:
        body = json.dumps({"responses": [
            {"response_id": f"r{k}", "responded_at": "2026-12-01T12:00:00Z", "rating": "bad" if k % 2 else "good",
             "customer_email": f"c{k}@example.com"} for k in range(n % 4, n % 4 + 6)][::1 if n % 2 else -1]}).encode()
        response = server.post("/api/surveys/webhook/pulse", content=body,
                               headers={"X-Earshot-Signature": sign(secret, body), "content-type": "application/json"})
        return response.status_code, response.json()

    answers = at_once(send, deliveries)
    assert [status for status, _ in answers] == [200] * deliveries, answers
    assert [report["rejected"] for _, report in answers] == [[]] * deliveries, answers
    stored = query(server_settings, "SELECT response_id FROM survey_response")
    assert sorted(row[0] for row in stored) == sorted(f"r{k}" for k in range(9))
    cases = query(server_settings, "SELECT r.response_id FROM review_case c "
                                   "JOIN survey_response r ON r.id = c.survey_response_id")
    assert sorted(row[0] for row in cases) == ["r1", "r3", "r5", "r7"]


def test_an_evaluation_started_several_times_at_once_is_started_once(server, server_settings):
    """An evaluator's double click (or two tabs) on "Evaluate" or on a calibration's "Score": one evaluator
    scores an interaction once (and once per calibration session), so one request starts the draft and the
    others are told it exists (409) or get the same draft, on both databases."""
    from sqlmodel import select

    from app.auth.models import User
    from app.auth.service import principal_of
    from app.evaluations import calibration
    from tests.integration.evaluations_support import load_small_form, make_interaction

    for name, roles in (("eve", ["evaluator"]), ("eli", ["evaluator"]), ("lead", ["admin"]), ("ada", ["agent"])):
        add_user(server_settings, name, roles)
    engine = make_engine(server_settings.resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            users = {u.username: u for u in session.exec(select(User)).all()}
            scorecard_id = load_small_form(session)
            interaction_id = make_interaction(session, agent_id=users["ada"].id).id
            calibrated = make_interaction(session, agent_id=users["ada"].id).id
            calibration_id = calibration.create(
                session=session, principal=principal_of(users["lead"]), title="Round", interaction_id=calibrated,
                scorecard_id=scorecard_id, evaluator_ids=[users["eve"].id, users["eli"].id]).id
    finally:
        engine.dispose()
    evaluator = sign_in_as(server, "eve")
    clicks = 8

    def start(_n: int) -> int:
        return server.post("/api/evaluations", json={"interaction_id": interaction_id, "scorecard_id": scorecard_id},
                           headers=evaluator).status_code

    def score(_n: int) -> tuple[int, int]:
        response = server.post(f"/api/calibrations/{calibration_id}/evaluation", headers=evaluator)
        return response.status_code, response.json().get("id")

    with ThreadPoolExecutor(max_workers=clicks) as pool:
        statuses = sorted(pool.map(start, range(clicks)))
        drafts = list(pool.map(score, range(clicks)))
    assert statuses == [201] + [409] * (clicks - 1), statuses
    assert {status for status, _ in drafts} <= {200, 201} and len({draft for _, draft in drafts}) == 1, drafts
    assert query(server_settings, "SELECT count(*) FROM evaluation WHERE interaction_id = :i", i=interaction_id) \
        == [(1,)]
    assert query(server_settings, "SELECT count(*) FROM evaluation WHERE interaction_id = :i", i=calibrated) == [(1,)]


def test_double_clicks_on_an_evaluations_state_change_change_it_once(server, server_settings):
    """An evaluator submitting twice at once and an agent disputing twice at once (a double click, a retried
    form): each change happens once — one submission, one dispute with one audit event — and the other
    requests are told the evaluation has moved on (409), on both databases."""
    from tests.integration.evaluations_support import FULL_MARKS

    scorecard_id, interaction_id = evaluator_eve_and_agent_ada(server_settings)
    evaluator, agent = sign_in_as(server, "eve"), sign_in_as(server, "ada")
    draft = server.post("/api/evaluations", json={"interaction_id": interaction_id, "scorecard_id": scorecard_id},
                        headers=evaluator).json()
    clicks = 8

    def submit(_n: int) -> int:
        return server.post(f"/api/evaluations/{draft['id']}/submit", headers=evaluator,
                           json={"revision": draft["revision"], "answers": FULL_MARKS}).status_code

    def dispute(_n: int) -> int:
        return server.post(f"/api/evaluations/{draft['id']}/dispute", headers=agent,
                           json={"reason": "The customer hung up before I could answer."}).status_code

    with ThreadPoolExecutor(max_workers=clicks) as pool:
        submitted = sorted(pool.map(submit, range(clicks)))
        disputed = sorted(pool.map(dispute, range(clicks)))
    assert submitted == [200] + [409] * (clicks - 1), submitted
    assert disputed == [201] + [409] * (clicks - 1), disputed
    assert query(server_settings, "SELECT count(*) FROM evaluation_dispute") == [(1,)]
    for action in ("evaluation.submit", "evaluation.dispute"):
        assert query(server_settings, "SELECT count(*) FROM audit_event WHERE action = :a", a=action) == [(1,)]


def test_a_double_clicked_submit_on_the_scoring_page_submits_once(server, server_settings):
    """The scoring page's own path (it reads the evaluation before it saves and submits): two clicks on Submit at
    once submit once; the other click is answered with the page and its message, not a server error."""
    from tests.integration.evaluations_support import FULL_MARKS

    scorecard_id, interaction_id = evaluator_eve_and_agent_ada(server_settings)
    evaluator = sign_in_as(server, "eve")
    draft = server.post("/api/evaluations", json={"interaction_id": interaction_id, "scorecard_id": scorecard_id},
                        headers=evaluator).json()
    fields = {"action": "submit", "revision": str(draft["revision"]), "csrf_token": evaluator["x-csrf-token"]}
    for answer in FULL_MARKS:
        value = answer["value"]
        fields[f"answer__{answer['question_id']}"] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    clicks = 6

    def click(_n: int) -> int:
        return server.post(f"/evaluations/{draft['id']}/edit", data=fields, follow_redirects=False,
                           headers={"cookie": evaluator["cookie"]}).status_code

    statuses = sorted(at_once(click, clicks))
    assert statuses[0] == 303 and 500 not in statuses, statuses
    assert query(server_settings, "SELECT state FROM evaluation") == [("submitted",)]
    assert query(server_settings, "SELECT count(*) FROM audit_event WHERE action = 'evaluation.submit'") == [(1,)]


def evaluator_eve_and_agent_ada(settings: Settings) -> tuple[int, int]:
    """Users eve (evaluator) and ada (agent), a published scorecard and one of ada's chats: (scorecard id,
    interaction id)."""
    from sqlmodel import select

    from app.auth.models import User
    from tests.integration.evaluations_support import load_small_form, make_interaction

    add_user(settings, "eve", ["evaluator"])
    add_user(settings, "ada", ["agent"])
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(session_factory(engine)) as session:
            ada = session.exec(select(User).where(User.username == "ada")).one()
            scorecard_id = load_small_form(session)
            interaction = make_interaction(session, agent_id=ada.id)
            assert interaction.id is not None
            return scorecard_id, interaction.id
    finally:
        engine.dispose()


def _chat(name: str, **customer: str) -> dict[str, str]:
    return {"conversation_id": f"conv-{name}", "message_id": f"conv-{name}-m0", "author_role": "customer",
            "sent_at": "2026-12-01T10:00:00+00:00", "text": "Hello", **customer}


def _two_customers(server: TestClient, admin: dict[str, str]) -> tuple[int, int]:
    """Customers A (older; known by e-mail) and B (known by phone), each with a chat."""
    for line in (_chat("a", customer_email="a@example.com"), _chat("b", customer_phone="+852 5123 4567")):
        assert server.post("/api/chats?source=merge", json=[line], headers=admin).status_code == 200
    rows = query_url(str(server.app.state.settings.resolved_database_url),  # type: ignore[attr-defined]
                     "SELECT customer_id FROM interaction WHERE source = 'merge' ORDER BY external_id")
    return rows[0][0], rows[1][0]


def _merged_into(settings: Settings) -> dict[int, int | None]:
    return dict(query(settings, "SELECT id, merged_into_id FROM customer"))


def test_two_customers_merged_into_each_other_at_once_are_merged_one_way(server, server_settings):
    """A into B and B into A at the same moment (two admins, or an admin and an import): one merge happens,
    the other is refused; never a cycle (both customers would vanish from every list, their timelines with
    them)."""
    add_user(server_settings, "root", ["admin"])
    admin = sign_in_as(server, "root")
    first, second = _two_customers(server, admin)
    for _round in range(4):
        def merge(pair: tuple[int, int]) -> int:
            return server.post(f"/api/customers/{pair[0]}/merge", json={"into": pair[1]}, headers=admin).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = sorted(pool.map(merge, [(first, second), (second, first)] * 2))
        assert statuses == [200, 409, 409, 409], statuses
        merged = _merged_into(server_settings)
        assert sorted([merged[first], merged[second]], key=str) == sorted([None, first if merged[second] else second],
                                                                          key=str), merged
        absorbed = first if merged[first] else second
        statuses = sorted(at_once(lambda _n: server.post(f"/api/customers/{absorbed}/unmerge",
                                                          headers=admin).status_code, 3))
        assert statuses == [200, 409, 409], statuses
        assert _merged_into(server_settings) == {first: None, second: None}
        assert query(server_settings, "SELECT customer_id FROM interaction WHERE source = 'merge' "
                                      "ORDER BY external_id") == [(first,), (second,)]


def test_a_merge_by_hand_and_an_import_merging_the_other_way_at_once_leave_one_customer(server, server_settings):
    """An admin merges A into B while an import brings a chat carrying both A's e-mail and B's phone (which
    merges B into the older A): whichever goes first, one customer stays active, holding all three chats."""
    add_user(server_settings, "root", ["admin"])
    admin = sign_in_as(server, "root")
    first, second = _two_customers(server, admin)
    for attempt in range(4):
        linking = _chat(f"both-{attempt}", customer_email="a@example.com", customer_phone="+852 5123 4567")

        def act(which: int) -> int:
            if which == 0:
                return server.post(f"/api/customers/{first}/merge", json={"into": second}, headers=admin).status_code
            return server.post("/api/chats?source=merge", json=[linking], headers=admin).status_code

        statuses = at_once(act, 2)
        assert statuses[1] == 200 and statuses[0] in (200, 409), statuses
        merged = _merged_into(server_settings)
        active = [customer for customer in (first, second) if merged[customer] is None]
        assert len(active) == 1, merged
        owners = query(server_settings, "SELECT DISTINCT customer_id FROM interaction WHERE source = 'merge'")
        assert owners == [(active[0],)], (owners, merged)
        absorbed = second if active[0] == first else first
        assert server.post(f"/api/customers/{absorbed}/unmerge", headers=admin).status_code == 200


CREATED_AT_ONCE = [
    ("/api/teams", {"name": "Night shift"}, "SELECT count(*) FROM team WHERE name = 'Night shift'"),
    ("/api/sites", {"name": "Mong Kok"}, "SELECT count(*) FROM site WHERE name = 'Mong Kok'"),
    ("/api/users", {"username": "newbie", "password": "a long enough password", "roles": ["agent"]},
     "SELECT count(*) FROM user_account WHERE username = 'newbie'"),
    ("/api/surveys/sources", {"name": "nps-2027"}, "SELECT count(*) FROM survey_source WHERE name = 'nps-2027'"),
]


@pytest.mark.parametrize(("url", "body", "count"), CREATED_AT_ONCE, ids=[url for url, _, _ in CREATED_AT_ONCE])
def test_the_same_thing_created_several_times_at_once_is_created_once_and_the_rest_refused(
        server, server_settings, url, body, count):
    """Six identical creations at once (a double click in an admin script, two admins): one is created, the
    others get 409 with the reason — never a 500 (PostgreSQL refuses the later writers of the same key)."""
    add_user(server_settings, "root", ["admin"])
    admin = sign_in_as(server, "root")
    answers = at_once(lambda _n: server.post(url, json=body, headers=admin), 6)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 409, 409, 409, 409, 409], [answer.text[:200] for answer in answers]
    assert all("already" in answer.json()["error"]["message"] for answer in answers if answer.status_code == 409)
    assert query(server_settings, count) == [(1,)]


def test_a_platforms_standards_set_several_times_at_once_are_stored_once(server, server_settings):
    """PUT is idempotent: six at once all succeed, and the platform has one row (it is created on first use)."""
    add_user(server_settings, "root", ["admin"])
    admin = sign_in_as(server, "root")
    answers = at_once(lambda _n: server.put("/api/social/config/mastodon", json={"display_name": "Mastodon"},
                                             headers=admin), 6)
    assert [answer.status_code for answer in answers] == [200] * 6, [answer.text[:200] for answer in answers]
    assert query(server_settings, "SELECT display_name FROM social_channel_config WHERE platform = 'mastodon'") == [
        ("Mastodon",)]


def test_the_months_review_meeting_created_several_times_at_once_is_created_once(server, server_settings):
    """One meeting a month unless an extra one is asked for: six "create" at once (two executives, a double
    click through the API) make one meeting; the others are told the month has one."""
    add_user(server_settings, "boss", ["executive"])
    boss = sign_in_as(server, "boss")
    meeting = {"period": "2026-11", "held_on": "2026-12-03", "attendees": ["Boss"]}
    answers = at_once(lambda _n: server.post("/api/reviews/meetings", json=meeting, headers=boss), 6)
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409, 409, 409]
    assert all("already has a meeting" in answer.json()["error"]["message"]
               for answer in answers if answer.status_code == 409)
    assert query(server_settings, "SELECT count(*) FROM review_meeting WHERE period = '2026-11'") == [(1,)]
