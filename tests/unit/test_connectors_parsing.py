"""Connector parsing rules without a database: times, file matching, channels, archive wrappers, signatures."""

import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.connectors.common import find_audio, parse_time
from app.connectors.phone import _asterisk_record, _freeswitch_record, channel_peer
from app.connectors.social import read_ytd
from app.connectors.webhooks import signature
from app.core.errors import InvalidInput


@pytest.mark.parametrize("value, zone, expected", [
    ("2026-11-20 09:00:00", "UTC", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("2026-11-20 09:00:00", "Europe/Berlin", datetime(2026, 11, 20, 8, tzinfo=UTC)),
    ("2026-11-20T09:00:00Z", "UTC", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("2026-11-20T09:00:00+0000", "UTC", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("Fri, 20 Nov 2026 09:00:00 +0000", "UTC", datetime(2026, 11, 20, 9, tzinfo=UTC)),
    ("1763629200", "UTC", datetime(2025, 11, 20, 9, tzinfo=UTC)),
    (1763629200, "UTC", datetime(2025, 11, 20, 9, tzinfo=UTC)),
])
def test_parse_time(value: object, zone: str, expected: datetime) -> None:
    assert parse_time(value, what="t", zone=zone) == expected


@pytest.mark.parametrize("value", ["", None, "yesterday", "2026-13-40 00:00:00"])
def test_parse_time_rejects(value: object) -> None:
    with pytest.raises(InvalidInput, match="^t"):
        parse_time(value, what="t")


def test_find_audio_matches_whole_ids_only() -> None:
    files = [Path("x/1763629200.123.wav"), Path("x/q-600-1763629200.1.wav"), Path("x/1763629200.12-in.wav")]
    assert find_audio(files, "1763629200.1") == Path("x/q-600-1763629200.1.wav")
    assert find_audio(files, "1763629200.12") == Path("x/1763629200.12-in.wav")
    assert find_audio(files, "1763629200.9") is None


def test_channel_peer() -> None:
    assert channel_peer("PJSIP/alice-0000002a") == "alice"
    assert channel_peer("SIP/2001-00000001") == "2001"
    assert channel_peer("Local/600@queue-0001;1") is None and channel_peer("") is None


def test_asterisk_row_directions_and_queue() -> None:
    row = ["", "07700900123", "600", "from-pstn", "", "PJSIP/trunk-1", "PJSIP/bob-2", "Queue", "sales,t",
           "2026-11-20 09:00:00", "", "2026-11-20 09:01:00", "60", "0", "NO ANSWER", "3", "1.5", ""]
    record = _asterisk_record(row, files=[], zone="UTC")
    assert (record.direction, record.agent, record.queue, record.customer_phone) == ("inbound", "bob", "sales",
                                                                                     "07700900123")
    assert _asterisk_record(row[:17], files=[], zone="UTC").external_id == "1.5"  # without userfield


def test_freeswitch_variables_are_url_decoded() -> None:
    record = _freeswitch_record({"variables": {"uuid": "u1", "caller_id_number": "%2B447700900123",
                                               "start_stamp": "2026-11-20%2009%3A00%3A00", "duration": "5",
                                               "cc_agent": "carol%40default"}}, files=[], zone="UTC")
    assert (record.customer_phone, record.agent, record.started_at) == (
        "+447700900123", "carol", datetime(2026, 11, 20, 9, tzinfo=UTC))


def test_read_ytd(tmp_path: Path) -> None:
    (tmp_path / "tweets.js").write_text('window.YTD.tweets.part0 = [ {"tweet": {"id_str": "1"}} ];\n')
    assert read_ytd(tmp_path / "tweets.js") == [{"tweet": {"id_str": "1"}}]
    (tmp_path / "bad.js").write_text('[]')
    with pytest.raises(InvalidInput, match="window.YTD"):
        read_ytd(tmp_path / "bad.js")


def test_webhook_signature_covers_timestamp_and_body() -> None:
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("s3cret", "1700000000", b"{}") == f"sha256={expected}"
    assert signature("s3cret", "1700000001", b"{}") != signature("s3cret", "1700000000", b"{}")
