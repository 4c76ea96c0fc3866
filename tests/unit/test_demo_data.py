"""The committed demo data set (demo/) keeps its contract: the formats the importers read and the stories."""

import csv
import json
from collections import defaultdict
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import av
import pytest

DEMO = Path(__file__).resolve().parents[2] / "demo"
USERS = {"ada", "ben", "cara", "dan", "sam"}
FIRST, LAST = datetime.fromisoformat("2026-09-01T00:00:00+00:00"), datetime.fromisoformat("2026-12-01T00:00:00+00:00")
MARIA = {"phone": "+447700900123", "email": "maria.lopez@example.com", "handle": "marial"}


def when(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() is not None, value
    assert FIRST <= parsed < LAST, value
    return parsed


def read_csv(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DEMO / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def manifest() -> list[dict[str, str]]:
    columns, rows = read_csv("calls/manifest.csv")
    assert columns == ["external_id", "file", "started_at", "direction", "queue", "agent", "customer_phone",
                       "customer_name", "customer_email", "channel_map", "transfers"]
    return rows


@pytest.fixture(scope="module")
def chats() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DEMO / "chats.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def posts() -> list[dict[str, Any]]:
    return list(json.loads((DEMO / "social.json").read_text(encoding="utf-8"))["posts"])


@pytest.fixture(scope="module")
def surveys() -> list[dict[str, str]]:
    columns, rows = read_csv("surveys.csv")
    assert columns == ["response_id", "invited_at", "responded_at", "customer_email", "customer_phone",
                       "interaction_external_id", "interaction_source", "channel", "agent", "shop", "rating",
                       "score", "comment"]
    return rows


@pytest.fixture(scope="module")
def emails() -> dict[str, Any]:
    parser = BytesParser(policy=policy.default)
    return {path.name: parser.parsebytes(path.read_bytes()) for path in sorted((DEMO / "emails").glob("*.eml"))}


def test_calls_open_with_the_declared_layout_duration_and_transcript(manifest: list[dict[str, str]]) -> None:
    assert len(manifest) >= 14
    assert len({row["external_id"] for row in manifest}) == len(manifest)
    layouts = defaultdict(int)
    for row in manifest:
        when(row["started_at"])
        assert row["direction"] in {"inbound", "outbound"}
        assert row["agent"] in USERS and row["customer_phone"].startswith("+44")
        assert row["channel_map"] in {"agent,customer", "mixed"}
        path = DEMO / "calls" / row["file"]
        assert path.suffix == ".ogg" and path.stat().st_size < 300_000
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            assert stream.codec_context.name == "opus"
            channels = stream.codec_context.channels
            assert container.duration is not None
            seconds = container.duration / av.time_base
        assert channels == (2 if row["channel_map"] == "agent,customer" else 1), row["external_id"]
        assert 20 <= seconds <= 45, (row["external_id"], seconds)
        layouts[channels] += 1
        lines = (DEMO / "calls" / f"{row['external_id']}.txt").read_text(encoding="utf-8").splitlines()
        assert len(lines) >= 6
        assert all(line.startswith(("AGENT: ", "CUSTOMER: ")) for line in lines)
        assert {line.split(":")[0] for line in lines} == {"AGENT", "CUSTOMER"}
    assert layouts[2] >= 12 and 2 <= layouts[1] <= 3


def test_call_stories(manifest: list[dict[str, str]]) -> None:
    transcripts = {row["external_id"]: (DEMO / "calls" / f"{row['external_id']}.txt").read_text() for row in manifest}
    # Transferred twice: ada -> ben -> cara, with increasing offsets inside the call.
    transferred = [row for row in manifest if row["transfers"]]
    assert len(transferred) == 1 and transferred[0]["agent"] == "ada"
    hops = [hop.split("@") for hop in transferred[0]["transfers"].split(";")]
    assert [hop[0] for hop in hops] == ["ben", "cara"] and all(hop[1] for hop in hops)
    assert 0 < float(hops[0][2]) < float(hops[1][2]) < 45
    # Identity verification in most calls, skipped in one; a card number and a phone number read out.
    verified = [key for key, text in transcripts.items() if "date of birth" in text]
    assert len(verified) >= 10
    assert any("skip the security questions" in text for key, text in transcripts.items() if key not in verified)
    card = [text for text in transcripts.values() if "4111 1111 1111 1111" in text]
    assert len(card) == 1 and "07700 900456" in card[0]
    assert sum("short hold" in text for text in transcripts.values()) >= 6
    maria = [row for row in manifest if row["customer_phone"] == MARIA["phone"]]
    assert len(maria) == 1 and maria[0]["customer_email"] == MARIA["email"]


def test_chats_parse_with_the_documented_fields(chats: list[dict[str, Any]]) -> None:
    fields = {"conversation_id", "message_id", "sent_at", "author_role", "author_name", "agent", "customer_email",
              "customer_phone", "queue", "text"}
    assert all(set(message) == fields for message in chats)
    assert len({message["message_id"] for message in chats}) == len(chats)
    conversations: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in chats:
        conversations[message["conversation_id"]].append(message)
        assert message["author_role"] in {"customer", "agent", "bot", "system"}
        assert message["agent"] is None or message["agent"] in USERS
        if message["author_role"] == "agent":
            assert message["agent"] in USERS
    assert len(conversations) == 20
    for messages in conversations.values():
        times = [when(message["sent_at"]) for message in messages]
        assert times == sorted(times)


def test_social_threads_and_stories(posts: list[dict[str, Any]]) -> None:
    by_id = {post["post_id"]: post for post in posts}
    assert len(by_id) == len(posts)
    roots = [post for post in posts if post["parent_id"] is None]
    assert len(roots) == 20
    for post in posts:
        assert post["platform"] in {"twitter", "facebook", "instagram"}
        assert post["author_role"] in {"customer", "agent"} and isinstance(post["is_public"], bool)
        assert (post["agent"] in USERS) if post["author_role"] == "agent" else post["agent"] is None
        assert isinstance(post["follower_count"], int) and post["url"].startswith("https://")
        when(post["created_at"])
        if post["parent_id"] is not None:
            assert when(by_id[post["parent_id"]]["created_at"]) <= when(post["created_at"])

    def root_of(post: dict[str, Any]) -> str:
        while post["parent_id"] is not None:
            post = by_id[post["parent_id"]]
        return str(post["post_id"])

    threads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for post in posts:
        threads[root_of(post)].append(post)
    root_authors = {by_id[root]["author_handle"]: thread for root, thread in threads.items()}
    assert by_id[root_authors["techguru"][0]["post_id"]]["follower_count"] == 250_000
    outage_words = ("down", "no internet", "no @kestrelhelp broadband")
    low = [posts for handle, posts in root_authors.items()
           if posts[0]["follower_count"] < 1000 and "M" in posts[0]["text"]
           and any(word in posts[0]["text"].lower() for word in outage_words)]
    assert low, "a low-follower customer with the same outage complaint"
    quiet = sorted(root_authors["quietcustomer"], key=lambda post: post["created_at"])
    follow_ups = [post for post in quiet if post["author_role"] == "agent"]
    assert len(follow_ups) >= 3 and quiet[0]["author_role"] == "customer"
    assert all(post["author_role"] == "agent" for post in quiet[1:]), "the customer never answers"
    span = when(follow_ups[-1]["created_at"]) - when(follow_ups[0]["created_at"])
    assert span.days >= 1 and (when(follow_ups[-1]["created_at"]).date() - when(quiet[0]["created_at"]).date()).days >= 2
    assert root_authors["marial"][0]["display_name"] == "Maria Lopez"


def test_emails_parse_and_thread(emails: dict[str, Any]) -> None:
    by_id = {}
    for name, message in emails.items():
        assert message["Message-ID"] and message["From"] and message["Subject"], name
        date = parsedate_to_datetime(message["Date"])
        assert date.tzinfo is not None and FIRST <= date < LAST
        by_id[message["Message-ID"].strip()] = message
    threads = defaultdict(int)
    for message in emails.values():
        current = message
        while current["In-Reply-To"]:
            parent = current["In-Reply-To"].strip()
            assert parent in by_id and parent in current["References"]
            current = by_id[parent]
        threads[current["Message-ID"].strip()] += 1
    assert len(threads) == 10 and all(2 <= count <= 4 for count in threads.values())
    agents = {message["From"].addresses[0].username for message in emails.values()
              if message["From"].addresses[0].domain == "support.example.com"}
    assert agents <= USERS and agents
    content_types = {part.get_content_type() for message in emails.values() for part in message.walk()}
    assert {"text/html", "multipart/alternative", "application/pdf"} <= content_types
    pdfs = [part for message in emails.values() for part in message.iter_attachments()]
    assert len(pdfs) == 1 and pdfs[0].get_content().startswith(b"%PDF-")


def test_surveys_mix_and_bad_rating_stories(surveys: list[dict[str, str]], manifest: list[dict[str, str]],
                                            chats: list[dict[str, Any]], posts: list[dict[str, Any]],
                                            emails: dict[str, Any]) -> None:
    assert len({row["response_id"] for row in surveys}) == len(surveys)
    known = ({row["external_id"] for row in manifest} | {message["conversation_id"] for message in chats}
             | {post["post_id"] for post in posts}
             | {message["Message-ID"].strip().strip("<>") for message in emails.values()})
    answered = [row for row in surveys if row["responded_at"]]
    bands: dict[str, int] = defaultdict(int)
    for row in surveys:
        assert row["interaction_source"] == "demo" and row["channel"] in {"call", "chat", "email", "social", "shop"}
        assert row["agent"] == "" or row["agent"] in USERS
        assert row["interaction_external_id"] == "" or row["interaction_external_id"] in known
        invited = when(row["invited_at"])
        if not row["responded_at"]:
            assert row["rating"] == row["score"] == ""
            continue
        assert when(row["responded_at"]) >= invited
        assert bool(row["rating"]) != bool(row["score"])
        band = row["rating"] or ("good" if int(row["score"]) >= 4 else "acceptable" if row["score"] == "3" else "bad")
        assert band in {"good", "acceptable", "bad"}
        bands[band] += 1
    assert 280 <= len(answered) <= 320 and len(surveys) - len(answered) >= 3 * len(answered)
    assert bands["good"] / len(answered) >= 0.9 and 0.03 <= bands["acceptable"] / len(answered) <= 0.06
    bad = [row for row in answered if row["rating"] == "bad"]
    assert 4 <= len(bad) <= 6
    assert all(row["interaction_external_id"] in known and len(row["comment"]) > 40 for row in bad)
    assert sum(row["responded_at"][:7] == "2026-10" for row in bad) >= 3  # a month with several cases to review
    maria = [row for row in bad if row["customer_email"] == MARIA["email"]]
    assert maria and maria[0]["customer_phone"] == MARIA["phone"]


def test_maria_contacts_across_three_channels_share_identities(manifest: list[dict[str, str]],
                                                                chats: list[dict[str, Any]],
                                                                posts: list[dict[str, Any]]) -> None:
    call = next(row for row in manifest if row["customer_name"] == "Maria Lopez")
    chat = [message for message in chats if message["customer_email"] == MARIA["email"]]
    tweet = next(post for post in posts if post["author_handle"] == MARIA["handle"] and post["parent_id"] is None)
    assert (call["customer_phone"], call["customer_email"]) == (MARIA["phone"], MARIA["email"])
    assert {message["customer_phone"] for message in chat} == {MARIA["phone"]}
    assert len({message["conversation_id"] for message in chat}) == 1
    assert tweet["platform"] == "twitter" and tweet["is_public"]
    assert when(call["started_at"]) < when(chat[0]["sent_at"]) < when(tweet["created_at"])


def test_generator_reproduces_the_committed_text_files(tmp_path: Path) -> None:
    """The committed files are what demo/make_demo.py writes (text part, no espeak-ng needed): edit the scripts,
    then regenerate and commit both."""
    import subprocess
    import sys

    subprocess.run([sys.executable, str(DEMO / "make_demo.py"), "--no-audio", "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=60)
    generated = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())
    assert len(generated) == 46  # 15 transcripts, manifest, chats, 27 e-mails, social, surveys
    for relative in generated:
        assert (tmp_path / relative).read_bytes() == (DEMO / relative).read_bytes(), relative
