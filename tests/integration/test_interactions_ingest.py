# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""Chat, social and e-mail imports and the webhook: reports, idempotent re-imports, threading, bad input."""

from sqlmodel import select

from app.ingest import service
from app.ingest.chats import import_chats, read_records
from app.ingest.email_threads import import_emails
from app.ingest.emails import iter_email_sources
from app.ingest.social import import_social, read_social
from app.interactions import customers
from app.interactions import service as interactions
from app.interactions.models import Interaction, InteractionLeg, Message
from tests.conftest import sign_in
from tests.integration.interactions_support import FIXTURES, agents  # noqa: F401


def test_chat_jsonl_import_reports_bad_lines_keeps_good_ones_and_is_idempotent(session, agents):
    report = import_chats(session=session, records=read_records(FIXTURES / "chats.jsonl"),
                  source="t")
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (6, "not valid JSON"), (7, "sent_at"), (8, "unknown agent 'nobody'")]
    chat = interactions.get_by_external_id(session=session, source="t", external_id="chat-001")
    assert chat.channel == "chat" and chat.agent_id == agents["ada"].id and chat.queue == "broadband"
    messages = interactions.interaction_messages(session=session, interaction_id=chat.id)
    assert [m.author_role for m in messages] == ["customer", "bot", "agent"]
    maria = customers.find_customer_by_identity(session=session, kind="phone", value="+447700900123")
    assert maria.id == chat.customer_id and maria.display_name == "Maria Lopez"
    assert customers.find_customer_by_identity(session=session, kind="email",
                                                  value="maria.lopez@EXAMPLE.com").id == maria.id

    again = import_chats(session=session, records=read_records(FIXTURES / "chats.jsonl"),
                 source="t")
    assert (again.created, again.updated, again.unchanged, len(again.rejected)) == (0, 0, 2, 3)


def test_chat_csv_import_reports_rows_by_line(session, agents):
    report = import_chats(session=session, records=read_records(FIXTURES / "chats.csv"), source="t")
    assert (report.created, report.unchanged) == (2, 0)
    assert [r.line for r in report.rejected] == [4, 5]
    assert "author_role" in report.rejected[0].reason and "phone" in report.rejected[1].reason
    assert interactions.get_by_external_id(session=session, source="t", external_id="csv-3") is not None
    again = import_chats(session=session, records=read_records(FIXTURES / "chats.csv"), source="t")
    assert (again.created, again.unchanged) == (0, 2)


def test_chat_moving_between_agents_gets_legs(session, agents):
    rows = [{"conversation_id": "x", "message_id": str(n), "sent_at": f"2026-09-15T10:0{n}:00+00:00",
             "author_role": "agent", "agent": agent, "text": "hi"} for n, agent in enumerate(["ada", "ben", "ben"])]
    import_chats(session=session, records=enumerate(rows, 1), source="t")
    chat = interactions.get_by_external_id(session=session, source="t", external_id="x")
    legs = session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == chat.id)).all()
    assert [leg.agent_id for leg in legs] == [agents["ada"].id, agents["ben"].id]


def test_social_import_threads_posts_and_keeps_source_fields(session, agents):
    report = import_social(session=session, records=read_social(FIXTURES / "social.json"),
                   source="t")
    assert (report.created, report.unchanged) == (2, 0)
    assert [r.line for r in report.rejected] == [5]
    thread = interactions.get_by_external_id(session=session, source="t", external_id="tw-100")
    assert thread.platform == "twitter" and thread.agent_id == agents["sam"].id
    assert thread.extra["follower_count"] == 120 and thread.extra["url"].endswith("/100")
    messages = interactions.interaction_messages(session=session, interaction_id=thread.id)
    assert [m.external_id for m in messages] == ["tw-100", "tw-101", "tw-102"]
    assert messages[2].is_public is False and messages[1].extra["follower_count"] == 5000
    maria = customers.find_customer_by_identity(session=session, kind="social", value="@MARIAL",
                                                   platform="twitter")
    assert maria.id == thread.customer_id
    guru = interactions.get_by_external_id(session=session, source="t", external_id="tw-200")
    assert guru.extra["follower_count"] == 250000

    # a later reply joins its thread
    late = {"platform": "twitter", "post_id": "tw-103", "parent_id": "tw-102", "author_handle": "@acme_help",
            "author_role": "agent", "agent": "sam", "text": "Fixed now", "created_at": "2026-09-18T10:00:00+00:00"}
    report = import_social(session=session, records=[(1, late)], source="t")
    assert (report.created, report.updated) == (0, 1)
    assert len(interactions.interaction_messages(session=session, interaction_id=thread.id)) == 4
    again = import_social(session=session, records=read_social(FIXTURES / "social.json"),
                  source="t")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_emails_are_threaded_html_made_text_and_attachments_recorded(session, agents):
    report = import_emails(session=session, sources=iter_email_sources(FIXTURES / "emails"), source="t")
    assert (report.created, report.updated) == (2, 0)
    assert len(report.rejected) == 1 and report.rejected[0].item == "05-broken.eml"
    thread = interactions.get_by_external_id(session=session, source="t", external_id="q1@example.com")
    assert thread.channel == "email" and thread.subject == "Broadband keeps dropping"
    assert thread.agent_id == agents["cara"].id
    messages = interactions.interaction_messages(session=session, interaction_id=thread.id)
    assert [m.external_id for m in messages] == ["q1@example.com", "r1@support.example.com", "q2@example.com"]
    assert [m.author_role for m in messages] == ["customer", "agent", "customer"]
    html = messages[1]
    assert "We found a fault & booked an engineer." in html.text
    assert "alert" not in html.text and "<" not in html.text and "color" not in html.text
    assert html.attachments == [{"name": "engineer-visit.pdf", "content_type": "application/pdf", "size": 48}]
    customer = customers.find_customer_by_identity(session=session, kind="email", value="maria.lopez@example.com")
    assert thread.customer_id == customer.id

    again = import_emails(session=session, sources=iter_email_sources(FIXTURES / "emails"), source="t")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_email_reply_imported_later_joins_the_thread(session, agents, tmp_path):
    files = sorted((FIXTURES / "emails").glob("0[1-3]*.eml"))
    first = import_emails(session=session, sources=[(f.name, f.read_bytes()) for f in files[:1]], source="t")
    later = import_emails(session=session, sources=[(f.name, f.read_bytes()) for f in files[1:]], source="t")
    assert (first.created, later.created, later.updated) == (1, 0, 1)
    emails = session.exec(select(Interaction).where(Interaction.channel == "email")).all()
    assert len(emails) == 1
    # and the same messages from an mbox archive change nothing
    mbox = tmp_path / "archive.mbox"
    mbox.write_bytes(b"".join(b"From x@example.com Mon Sep 21 09:00:00 2026\n" + f.read_bytes() + b"\n"
                              for f in files))
    report = import_emails(session=session, sources=iter_email_sources(mbox), source="t")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)


def test_identities_meeting_across_channels_merge_the_customer(session, agents):
    import_social(session=session, records=read_social(FIXTURES / "social.json"), source="t")
    tweet_customer = customers.find_customer_by_identity(session=session, kind="social", value="marial",
                                                            platform="twitter")
    import_chats(session=session, records=read_records(FIXTURES / "chats.jsonl"), source="t")
    webhook = {"source": "crm", "external_id": "case-9", "channel": "chat", "started_at": "2026-09-20T10:00:00+00:00",
               "customer": {"phone": "07700900123", "identities": [{"kind": "social", "platform": "twitter",
                                                                     "value": "@marial"}]}}
    from app.ingest.models import WebhookInteraction

    interaction, status = service.ingest_webhook(session=session, data=WebhookInteraction.model_validate(webhook),
                                                 actor=None)
    phone_customer = customers.find_customer_by_identity(session=session, kind="phone", value="07700900123")
    assert status == "created" and interaction.customer_id == phone_customer.id
    session.refresh(tweet_customer)
    assert tweet_customer.merged_into_id == phone_customer.id or phone_customer.id == tweet_customer.id
    channels = [e.interaction.channel for e in interactions.customer_timeline(session=session,
                                                                              customer_id=phone_customer.id)]
    assert channels == ["chat", "social", "chat"]


def _token(client, user) -> str:
    sign_in(client, user.username)
    token = client.post("/api/tokens", json={"name": "crm"}).json()["token"]
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    return token


WEBHOOK = {"source": "ccaas", "external_id": "w-1", "channel": "chat", "started_at": "2026-09-20T10:00:00+00:00",
           "agent": "ada", "queue": "billing", "customer": {"email": "W@Example.com", "name": "Wendy"},
           "messages": [{"external_id": "1", "author_role": "customer", "sent_at": "2026-09-20T10:00:00+00:00",
                         "text": "hello"}]}


def test_webhook_is_token_authenticated_and_idempotent(client, session, agents):
    token = _token(client, agents["admin"])
    auth = {"authorization": f"Bearer {token}"}
    first = client.post("/api/webhooks/interactions", json=WEBHOOK, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "created"
    replay = client.post("/api/webhooks/interactions", json=WEBHOOK, headers=auth)
    assert replay.json() == {"interaction_id": first.json()["interaction_id"], "status": "unchanged"}
    changed = dict(WEBHOOK, queue="vip")
    assert client.post("/api/webhooks/interactions", json=changed, headers=auth).json()["status"] == "updated"

    bad = client.post("/api/webhooks/interactions", json=WEBHOOK, headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    unknown_agent = client.post("/api/webhooks/interactions", json=dict(WEBHOOK, agent="ghost"), headers=auth)
    assert unknown_agent.status_code == 422 and "ghost" in unknown_agent.json()["error"]["message"]
    invalid = client.post("/api/webhooks/interactions", json={"source": "x"}, headers=auth)
    assert invalid.status_code == 422
    agent_token = _token(client, agents["ada"])
    refused = client.post("/api/webhooks/interactions", json=WEBHOOK, headers={"authorization": f"Bearer {agent_token}"})
    assert refused.status_code == 403
    sign_in(client, "admin")
    assert client.post("/api/webhooks/interactions", json=WEBHOOK).status_code == 403  # cookie sessions: no


def test_json_apis_and_import_job(client, session, agents):
    sign_in(client, "admin")
    chats = [line for line in (FIXTURES / "chats.jsonl").read_text().splitlines() if line.startswith("{")]
    import json

    report = client.post("/api/chats?source=api", json=[json.loads(line) for line in chats]).json()
    assert (report["created"], len(report["rejected"])) == (2, 2)
    social = client.post("/api/social", json=json.loads((FIXTURES / "social.json").read_text())).json()
    assert social["created"] == 2 and social["rejected"][0]["line"] == 5
    files = [("files", (f.name, f.read_bytes(), "message/rfc822")) for f in sorted((FIXTURES / "emails").glob("*.eml"))]
    emails = client.post("/api/emails/upload", files=files).json()
    assert emails["created"] == 2 and len(emails["rejected"]) == 1

    started = client.post("/api/imports/chats/upload", data={"source": "web"},
                          files={"file": ("chats.csv", (FIXTURES / "chats.csv").read_bytes(), "text/csv")})
    assert started.status_code == 202, started.text
    job = client.get(f"/api/jobs/{started.json()['job_id']}").json()
    assert job["status"] == "done" and job["result"]["created"] == 2
    assert [r["line"] for r in job["result"]["rejected"]] == [4, 5]
    again = client.post("/api/imports/chats/upload", data={"source": "web"},
                        files={"file": ("chats.csv", (FIXTURES / "chats.csv").read_bytes(), "text/csv")})
    assert client.get(f"/api/jobs/{again.json()['job_id']}").json()["result"]["unchanged"] == 2
    assert client.post("/api/imports/nonsense/upload", files={"file": ("x", b"x")}).status_code == 422
    assert session.exec(select(Message).where(Message.external_id == "csv-3-1")).first() is not None
