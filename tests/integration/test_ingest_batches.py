# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""Imports read their texts with the language model (personal-data detection, ~2 ms a message) before they write
them, never while their transaction is open: on SQLite that transaction holds the database's one write lock,
which every other writer (an evaluator submitting, an agent acknowledging) waits for. A background import
(a job, the command line) works in batches, committing each before reading the next, and reads in a thread of
low CPU priority while its writes keep the normal priority. What is stored is the same either way."""

import os
import threading
import time
from typing import Any

import pytest

from app.ingest import chats, email_threads, social, writing
from app.interactions import service as interactions
from app.privacy import pii
from tests.integration.interactions_support import agents  # noqa: F401
from tests.integration.test_ingest_statements import chat_lines


@pytest.fixture
def readings(monkeypatch, session) -> list[dict[str, Any]]:
    """Every call of the detector over many texts: how many, in which thread, at which CPU priority, and whether
    the importing session had a transaction open then."""
    calls: list[dict[str, Any]] = []
    real = pii.find_pii_many

    def recording(texts: Any, **kwargs: Any) -> Any:
        thread = threading.get_native_id()
        calls.append({"texts": len(texts), "in_transaction": session.in_transaction(),
                      "thread": threading.current_thread().name,
                      "niceness": os.getpriority(os.PRIO_PROCESS, thread)})
        return real(texts, **kwargs)

    monkeypatch.setattr(pii, "find_pii_many", recording)
    return calls


def stored_texts(session: Any, source: str, conversation_ids: list[str]) -> list[tuple[str, str | None]]:
    rows = []
    for conversation_id in conversation_ids:
        chat = interactions.get_by_external_id(session=session, source=source, external_id=conversation_id)
        assert chat is not None, conversation_id
        rows += [(m.text, m.redacted_text) for m in
                 interactions.interaction_messages(session=session, interaction_id=chat.id)]
    return rows


def test_a_background_import_reads_each_batch_before_writing_it_and_stores_what_a_request_does(
        session, agents, readings, monkeypatch):
    monkeypatch.setattr(writing, "BACKGROUND_BATCH_TEXTS", 10)
    lines = chat_lines("batch", conversations=7, messages=4)
    for number, line in enumerate(lines):
        line["text"] += f" (message {number})"  # no two alike: identical texts in the same context are read once
    lines[1]["text"] = "My card is 4111 1111 1111 1111 and I'm Maria Lopez from Leeds"
    my_niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    report = chats.import_chats(session=session, records=list(enumerate(lines, start=1)), source="job",
                                background=True)
    assert report.created == 7 and not report.rejected
    # 28 texts in batches of two conversations (8 texts; a third would pass 10): 4 readings, each with no
    # transaction of the import open, in the low-priority thread; nothing read again inside the writes
    assert [c["texts"] for c in readings] == [8, 8, 8, 4]
    assert not [c for c in readings if c["in_transaction"]]
    assert {c["thread"].split("_")[0] for c in readings} == {"earshot-polite"}
    assert all(c["niceness"] > my_niceness or c["niceness"] == 19 for c in readings)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == my_niceness  # the writer was not niced

    readings.clear()
    again = [{**line, "conversation_id": "req-" + line["conversation_id"], "message_id": "req-" + line["message_id"]}
             for line in lines]
    assert chats.import_chats(session=session, records=list(enumerate(again, start=1)), source="job").created == 7
    # a request's import reads everything at once, before its first statement, in its own thread
    assert [(c["texts"], c["in_transaction"], c["thread"]) for c in readings] == [
        (28, False, threading.current_thread().name)]
    ids = [f"batch-{c}" for c in range(7)]
    in_background, in_request = stored_texts(session, "job", ids), stored_texts(session, "job", ["req-" + i for i in ids])
    assert in_background == in_request
    assert "[CARD]" in in_background[1][1] and "4111" not in in_background[1][1]


def test_a_bad_item_in_a_later_batch_loses_nothing_else(session, agents, monkeypatch):
    monkeypatch.setattr(writing, "BACKGROUND_BATCH_TEXTS", 4)
    lines = chat_lines("mixed", conversations=4, messages=4)
    for line in lines:
        if line["conversation_id"] == "mixed-2":
            line["agent"] = "nobody-here"
    report = chats.import_chats(session=session, records=list(enumerate(lines, start=1)), source="job",
                                background=True)
    assert report.created == 3
    assert sorted({r.line for r in report.rejected}) == [9, 10, 11, 12]
    assert len(stored_texts(session, "job", ["mixed-0", "mixed-1", "mixed-3"])) == 12


def test_email_and_social_imports_read_ahead_too(session, agents, readings):
    message = (b"From: Pat Customer <pat@example.com>\r\nTo: help@support.example.com\r\n"
               b"Subject: Refund\r\nMessage-ID: <m1@example.com>\r\nDate: Mon, 02 Mar 2026 09:00:00 +0000\r\n\r\n"
               b"Please refund my card 4111 1111 1111 1111.\r\n")
    assert email_threads.import_emails(session=session, sources=[("m1.eml", message)], source="mail").created == 1
    post = {"platform": "twitter", "post_id": "9001", "author_role": "customer", "author_handle": "@pat",
            "display_name": "Pat", "created_at": "2026-03-02T09:00:00Z", "text": "Still no signal in Leeds"}
    assert social.import_social(session=session, records=[(1, post)], source="social").created == 1
    # the e-mail's body and subject in one reading, the post in another; none inside a transaction
    assert [(c["texts"], c["in_transaction"]) for c in readings] == [(2, False), (1, False)]


def test_the_pause_after_a_background_commit_is_as_long_as_the_writing_not_the_reading(
        session, agents, monkeypatch, backend):
    """The pause that leaves the write lock to others lasts as long as the lock was held: reading the next batch
    (no lock held) does not count, or a slow language model would make the import sleep as long again."""
    monkeypatch.setattr(writing, "BACKGROUND_BATCH_TEXTS", 8)
    real, real_sleep = pii.find_pii_many, time.sleep

    def slow_reading(texts: Any, **kwargs: Any) -> Any:
        real_sleep(0.3)
        return real(texts, **kwargs)

    pauses: list[float] = []
    monkeypatch.setattr(pii, "find_pii_many", slow_reading)
    monkeypatch.setattr(writing.time, "sleep", pauses.append)
    lines = chat_lines("paced", conversations=6, messages=4)
    assert chats.import_chats(session=session, records=list(enumerate(lines, start=1)), source="job",
                              background=True).created == 6
    if backend == "sqlite":  # PostgreSQL locks rows: no pauses there
        assert len(pauses) >= 3  # a commit and a pause after each batch of two conversations
    assert all(pause < 0.25 for pause in pauses), pauses
