# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""Pages: search with filters in the URL, customer timeline, interaction (player/transcript or thread),
imports; untrusted text is escaped; scope applies."""

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

from app.ingest.chats import import_chats, read_records
from app.ingest.email_threads import import_emails
from app.ingest.emails import iter_email_sources
from app.ingest.social import import_social, read_social
from app.interactions import customers
from app.interactions import service as interactions
from app.interactions.models import Recording
from tests.conftest import sign_in
from tests.integration.interactions_support import FIXTURES, agents, no_transcription_jobs  # noqa: F401

HTML = {"accept": "text/html"}


def load_fixtures(session):
    import_social(session=session, records=read_social(FIXTURES / "social.json"), source="t")
    import_chats(session=session, records=read_records(FIXTURES / "chats.jsonl"), source="t")
    import_emails(session=session, sources=iter_email_sources(FIXTURES / "emails"), source="t")


def test_untrusted_text_is_escaped_on_every_page(client, session, agents):
    load_fixtures(session)
    thread = interactions.get_by_external_id(session=session, source="t", external_id="tw-100")
    sign_in(client, "admin")
    page = client.get(f"/interactions/{thread.id}", headers=HTML)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "250000" not in page.text and "120 followers" in page.text and "private" in page.text
    results = client.get("/search", params={"q": "broadband", "channel": "social"}, headers=HTML)
    assert "<script>alert" not in results.text and "&lt;script&gt;" in results.text
    assert "<mark>broadband</mark>" in results.text
    customer = client.get(f"/customers/{thread.customer_id}", headers=HTML)
    assert customer.status_code == 200 and "Maria Lopez" in customer.text


def test_a_social_thread_is_named_for_its_platform_not_its_post_id(client, session, agents):
    """Links to a social thread read "Twitter thread" on search, the customer's timeline and the thread page: the
    post id ("tw-100", in real feeds a 19-digit number) is shown only as the source reference."""
    load_fixtures(session)
    thread = interactions.get_by_external_id(session=session, source="t", external_id="tw-100")
    sign_in(client, "admin")
    link = re.compile(rf'<a href="/interactions/{thread.id}">([^<]*)</a>')
    results = client.get("/search", params={"q": "broadband", "channel": "social"}, headers=HTML).text
    timeline = client.get(f"/customers/{thread.customer_id}", headers=HTML).text
    assert link.findall(results) == ["Twitter thread"] and "Twitter thread" in link.findall(timeline)
    page = client.get(f"/interactions/{thread.id}", headers=HTML).text
    assert "<title>Twitter thread" in page and "t · tw-100" in page


def test_customer_timeline_lists_every_channel_in_time_order(client, session, agents):
    load_fixtures(session)
    maria = customers.find_customer_by_identity(session=session, kind="email", value="maria.lopez@example.com")
    sign_in(client, "admin")
    page = client.get(f"/customers/{maria.id}", headers=HTML).text
    positions = [page.index(label) for label in ("chat-001", "Broadband keeps dropping")]
    assert positions == sorted(positions)
    assert "3 messages" in page and ">tw-100<" not in page  # no identity links the tweet yet
    listing = client.get("/customers", params={"q": "maria"}, headers=HTML)
    assert listing.status_code == 200 and f"/customers/{maria.id}" in listing.text


def test_email_thread_page_lists_attachments_without_rendering_html(client, session, agents):
    load_fixtures(session)
    thread = interactions.get_by_external_id(session=session, source="t", external_id="q1@example.com")
    sign_in(client, "admin")
    page = client.get(f"/interactions/{thread.id}", headers=HTML).text
    assert "engineer-visit.pdf (application/pdf, 48 bytes)" in page
    assert "tracker.example" not in page and "We found a fault &amp; booked an engineer." in page


def test_call_page_shows_player_and_not_transcribed_placeholder(client, session, agents, tmp_path):
    from tests.integration.interactions_support import sox_tone

    sign_in(client, "admin")
    wav = sox_tone(tmp_path / "c.wav")
    meta = {"external_id": "c1", "started_at": "2026-09-14T09:31:00+00:00", "agent": "ada"}
    body = client.post("/api/recordings", data={"metadata": json.dumps(meta)},
                       files={"file": ("c.wav", wav.read_bytes())}).json()
    page = client.get(f"/interactions/{body['interaction_id']}", headers=HTML).text
    assert (f'<audio controls preload="metadata" src="/api/interactions/{body["interaction_id"]}/audio" '
            'data-player-audio>') in page
    assert "Not transcribed yet" in page and "pending" in page
    recording = session.get(Recording, body["recording_id"])
    assert recording.transcription_status == "pending"


def test_search_page_keeps_filters_in_the_url_and_paginates(client, session, agents):
    for n in range(25):
        import_chats(session=session, source="t", records=[(1, {
            "conversation_id": f"p{n}", "message_id": "1", "sent_at": f"2026-09-{n + 1:02d}T10:00:00+00:00",
            "author_role": "customer", "customer_email": "many@example.com", "text": f"router reboot number {n}"})])
    sign_in(client, "admin")
    first = client.get("/search", params={"q": "router", "order": "newest", "channel": "chat"}, headers=HTML).text
    assert "25 matches" in first and ">p24<" in first and ">p4<" not in first and "Page 1 of 2" in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_link and next_link.group(1).startswith("/search?")
    assert parse_qs(urlsplit(html.unescape(next_link.group(1))).query) == {
        "q": ["router"], "order": ["newest"], "channel": ["chat"], "page": ["2"]}
    second = client.get("/search", params={"q": "router", "order": "newest", "channel": "chat", "page": 2},
                        headers=HTML).text
    assert ">p0<" in second and ">p24<" not in second


def test_agents_only_see_their_own_interactions_on_pages(client, session, agents):
    load_fixtures(session)
    ada_chat = interactions.get_by_external_id(session=session, source="t", external_id="chat-001")
    sign_in(client, "ben")
    assert client.get(f"/interactions/{ada_chat.id}", headers=HTML).status_code == 404
    assert client.get(f"/api/interactions/{ada_chat.id}").status_code == 404
    assert client.get(f"/customers/{ada_chat.customer_id}", headers=HTML).status_code == 404
    assert "chat-001" not in client.get("/search", params={"q": "broadband"}, headers=HTML).text
    assert client.get("/api/search", params={"q": "broadband"}).json()["total"] == 0
    sign_in(client, "ada")
    assert client.get(f"/interactions/{ada_chat.id}", headers=HTML).status_code == 200
    assert client.get("/api/search", params={"q": "broadband"}).json()["total"] == 1


def test_search_by_reference_finds_the_interaction_within_what_the_caller_may_see(client, session, agents):
    """A reference typed in any case ("CHAT-001") is listed above the text matches, linked to the interaction;
    an agent who did not handle it gets no such line (the one visibility rule)."""
    load_fixtures(session)
    chat = interactions.get_by_external_id(session=session, source="t", external_id="chat-001")
    sign_in(client, "ada")
    page = client.get("/search", params={"q": " CHAT-001 "}, headers=HTML).text
    assert re.search(rf'Reference <b>CHAT-001</b>: .*<a href="/interactions/{chat.id}">chat-001</a>', page)
    # no text mentions the reference: said once, not as "0 matches. No matches." under the interaction found
    assert "No transcript, message or post mentions it in its text." in page
    assert "0 matches" not in page and "No matches." not in page
    assert "Reference <b>" not in client.get("/search", params={"q": "chat 001"}, headers=HTML).text
    sign_in(client, "ben")
    page = client.get("/search", params={"q": "chat-001"}, headers=HTML).text
    assert "Reference <b>" not in page and f"/interactions/{chat.id}" not in page


def test_imports_page_refuses_a_wrong_file_at_once_and_keeps_the_choices(client, session, agents):
    """A picture, a ZIP or an empty file chosen as the chats file: the page says why at once (no job that fails
    later) and keeps the kind and the source system; nothing is queued."""
    sign_in(client, "admin")
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    for filename, data, reason in [("photo.csv", png, "photo.csv is a PNG image, not a social file"),
                                   ("chats.zip", b"PK\x03\x04" + bytes(32), "chats.zip is a ZIP archive"),
                                   ("empty.json", b"", "file is empty")]:
        response = client.post("/imports/upload", data={"kind": "social", "source": "crm-7"}, headers=HTML,
                               files={"file": (filename, data, "application/octet-stream")})
        assert response.status_code == 422, response.text
        assert reason in response.text and "Choose the file again" in response.text
        assert '<option value="social" selected>' in response.text and 'value="crm-7"' in response.text
    assert client.get("/api/jobs").json()["total"] == 0


def test_imports_page_runs_an_upload_as_a_job(client, session, agents):
    sign_in(client, "admin")
    response = client.post("/imports/upload", data={"kind": "social", "source": "web"}, follow_redirects=False,
                           files={"file": ("social.json", (FIXTURES / "social.json").read_bytes(), "application/json")})
    assert response.status_code == 303 and response.headers["location"].startswith("/imports?job=")
    page = client.get(response.headers["location"], headers=HTML).text
    assert "data-poll-job" in page and "social.json" in page and "no author" not in page
    assert "line 5" in page
