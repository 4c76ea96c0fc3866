"""Phone-system connectors: each vendor fixture imported twice (no duplicates), damaged ones rejected by record."""

import json
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, col, select

from app.auth.models import User
from app.connectors import phone
from app.connectors.common import import_call_records
from app.core.settings import Settings
from app.interactions.models import Interaction, InteractionLeg
from tests.integration.connectors_support import (
    ASTERISK_ROWS,
    CONNECT_ID,
    asterisk_fixture,
    connect_fixture,
    count_calls,
    freeswitch_fixture,
    twilio_fixture,
)


def _twice(session: Session, settings: Settings, source: str, read: Callable[[], phone.RecordStream]) -> None:
    first = import_call_records(session=session, settings=settings, queue=None, source=source, records=read())
    assert not first.rejected, first.rejected
    assert first.created == 2
    again = import_call_records(session=session, settings=settings, queue=None, source=source, records=read())
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, [])


def test_asterisk_cdr_csv_with_mixmonitor(session: Session, settings: Settings, tmp_path: Path,
                                          make_user: Callable[..., User]) -> None:
    alice = make_user("agent", username="alice")
    cdr, recordings = asterisk_fixture(tmp_path)
    _twice(session, settings, "asterisk", lambda: phone.read_asterisk(cdr, recordings=recordings))
    assert count_calls(session, "asterisk") == (2, 1)
    inbound = session.exec(select(Interaction).where(Interaction.external_id == "1763629200.1")).one()
    assert (inbound.agent_id, inbound.queue, inbound.direction) == (alice.id, "support", "inbound")
    assert inbound.extra["disposition"] == "ANSWERED" and inbound.extra["billsec"] == 180
    outbound = session.exec(select(Interaction).where(Interaction.external_id == "1763632800.12")).one()
    assert outbound.direction == "outbound" and outbound.extra["disposition"] == "NO ANSWER"
    damaged = tmp_path / "damaged.csv"
    bad = [ASTERISK_ROWS[0][:10], [*ASTERISK_ROWS[0][:9], "yesterday", *ASTERISK_ROWS[0][10:]],
           [*ASTERISK_ROWS[1][:16], "", ""], [*ASTERISK_ROWS[1][:14], "MAYBE", *ASTERISK_ROWS[1][15:]]]
    damaged.write_text("\n".join(",".join(f'"{c}"' for c in row) for row in bad) + "\n")
    report = import_call_records(session=session, settings=settings, queue=None, source="asterisk",
                                 records=phone.read_asterisk(damaged, recordings=recordings))
    reasons = {r.line: r.reason for r in report.rejected}
    assert set(reasons) == {1, 2, 3, 4}
    assert "18 cdr_csv columns" in reasons[1] and "start" in reasons[2] and "uniqueid" in reasons[3]
    assert "disposition" in reasons[4]


def test_freeswitch_json_cdr(session: Session, settings: Settings, tmp_path: Path,
                             make_user: Callable[..., User]) -> None:
    bob = make_user("agent", username="bob")
    cdrs, recordings = freeswitch_fixture(tmp_path)
    _twice(session, settings, "freeswitch", lambda: phone.read_freeswitch(cdrs, recordings=recordings))
    assert count_calls(session, "freeswitch") == (2, 1)
    call = session.exec(select(Interaction).where(Interaction.external_id.startswith("a1b2"))).one()  # type: ignore[union-attr]
    assert (call.agent_id, call.queue) == (bob.id, "support")
    (cdrs / "c.cdr.json").write_text("{not json")
    (cdrs / "d.cdr.json").write_text(json.dumps({"variables": {"uuid": "d", "start_epoch": "x1"}}))
    report = import_call_records(session=session, settings=settings, queue=None, source="freeswitch",
                                 records=phone.read_freeswitch(cdrs, recordings=recordings))
    assert report.unchanged == 2 and [r.line for r in report.rejected] == [3, 4]
    assert "c.cdr.json: not valid JSON" in report.rejected[0].reason


def test_amazon_connect_ctr(session: Session, settings: Settings, tmp_path: Path,
                            make_user: Callable[..., User]) -> None:
    make_user("agent", username="alice")
    make_user("agent", username="bob")
    ctrs, root = connect_fixture(tmp_path)
    _twice(session, settings, "connect", lambda: phone.read_connect(ctrs, recordings=root))
    assert count_calls(session, "connect") == (2, 1)
    transfer = session.exec(select(Interaction).where(Interaction.external_id == "6fa3f3c0-transfer")).one()
    assert transfer.extra["previous_contact_id"] == CONNECT_ID and transfer.queue == "Billing"
    first = session.exec(select(Interaction).where(Interaction.external_id == CONNECT_ID)).one()
    assert (first.extra["hold_count"], first.extra["hold_seconds"]) == (1, 25)
    damaged = tmp_path / "bad.jsonl"
    damaged.write_text('{"Channel": "VOICE"}\n{broken\n{"ContactId": "x", "InitiationTimestamp": "soon"}\n')
    report = import_call_records(session=session, settings=settings, queue=None, source="connect",
                                 records=phone.read_connect(damaged, recordings=root))
    assert [(r.line, r.reason.split(":")[0]) for r in report.rejected] == [
        (1, "ContactId is missing"), (2, "not valid JSON"), (3, "InitiationTimestamp")]


def test_twilio_calls_and_recordings(session: Session, settings: Settings, tmp_path: Path,
                                     make_user: Callable[..., User]) -> None:
    alice = make_user("agent", username="alice")
    bob = make_user("agent", username="bob")
    calls, recordings, audio = twilio_fixture(tmp_path)
    _twice(session, settings, "twilio", lambda: phone.read_twilio(calls, recordings_file=recordings,
                                                                  audio_dir=audio))
    assert count_calls(session, "twilio") == (2, 1)
    outbound = session.exec(select(Interaction).where(Interaction.external_id == "CA" + "2" * 32)).one()
    assert outbound.agent_id == alice.id and outbound.direction == "outbound"
    transferred = session.exec(select(Interaction).where(Interaction.external_id == "CA" + "1" * 32)).one()
    legs = session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == transferred.id)
                        .order_by(col(InteractionLeg.started_at))).all()
    assert [leg.agent_id for leg in legs] == [alice.id, bob.id] and transferred.agent_id == bob.id
    damaged = tmp_path / "bad.json"
    damaged.write_text(json.dumps([{"sid": "XX1"}, {"sid": "CA9", "direction": "sideways"},
                                   {"sid": "CA8", "direction": "inbound", "start_time": "never"}]))
    report = import_call_records(session=session, settings=settings, queue=None, source="twilio",
                                 records=phone.read_twilio(damaged, recordings_file=None, audio_dir=None))
    assert [r.line for r in report.rejected] == [1, 2, 3]
