"""Vendor-format fixtures for the connector tests: field names exactly as each system publishes them."""

import json
import subprocess
from pathlib import Path

from sqlmodel import Session, col, func, select

from app.interactions.models import Interaction, Recording


def tone(path: Path, *, channels: int = 1, frequency: int = 440) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", str(channels), str(path), "synth", "0.5", "sine",
                    str(frequency)], check=True)
    return path


def count_calls(session: Session, source: str) -> tuple[int, int]:
    calls = session.exec(select(func.count()).select_from(Interaction).where(Interaction.source == source)).one()
    recordings = session.exec(select(func.count()).select_from(Recording).join(
        Interaction, col(Interaction.id) == col(Recording.interaction_id)).where(Interaction.source == source)).one()
    return int(calls), int(recordings)


ASTERISK_ROWS = [
    # accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,billsec,
    # disposition,amaflags,uniqueid,userfield
    ["", "07700900123", "600", "from-pstn", '"Jane" <07700900123>', "PJSIP/trunk-00000001",
     "PJSIP/alice-00000002", "Queue", "support,t,,,300", "2026-11-20 09:00:00", "2026-11-20 09:00:05",
     "2026-11-20 09:03:05", "185", "180", "ANSWERED", "DOCUMENTATION", "1763629200.1", ""],
    ["", "2001", "07700900456", "from-internal", '"Alice" <2001>', "PJSIP/alice-00000003",
     "PJSIP/trunk-00000004", "Dial", "PJSIP/07700900456@trunk", "2026-11-20 10:00:00", "", "2026-11-20 10:00:20",
     "20", "0", "NO ANSWER", "DOCUMENTATION", "1763632800.12", ""],
]


def asterisk_fixture(directory: Path) -> tuple[Path, Path]:
    import csv

    cdr = directory / "Master.csv"
    with cdr.open("w", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(ASTERISK_ROWS)
    recordings = directory / "monitor"
    tone(recordings / "q-600-07700900123-20261120-090005-1763629200.1.wav")
    tone(recordings / "unrelated-1763629200.123.wav", frequency=660)  # must not match uniqueid ...200.1
    return cdr, recordings


def freeswitch_fixture(directory: Path) -> tuple[Path, Path]:
    cdrs = directory / "json_cdr"
    cdrs.mkdir(parents=True)
    recordings = directory / "recordings"
    uuid = "a1b2c3d4-0000-4000-8000-000000000001"
    tone(recordings / f"2026-11-20/{uuid}.wav")
    (cdrs / f"{uuid}.cdr.json").write_text(json.dumps({
        "core-uuid": "f00", "switchname": "pbx1",
        "channel_data": {"state": "CS_REPORTING", "direction": "inbound"},
        "variables": {"uuid": uuid, "direction": "inbound", "caller_id_number": "%2B447700900123",
                      "destination_number": "5000", "start_stamp": "2026-11-20%2009%3A00%3A00",
                      "start_epoch": "1763629200", "answer_stamp": "2026-11-20%2009%3A00%3A03",
                      "end_stamp": "2026-11-20%2009%3A02%3A00", "duration": "120", "billsec": "117",
                      "hangup_cause": "NORMAL_CLEARING", "cc_queue": "support%40default", "cc_agent": "bob",
                      "last_app": "record_session", "last_arg": f"%2Fvar%2Frec%2F2026-11-20%2F{uuid}.wav"},
    }))
    (cdrs / "b2.cdr.xml").write_text(  # mod_xml_cdr
        '<?xml version="1.0"?>\n<cdr core-uuid="f00"><channel_data><direction>outbound</direction></channel_data>'
        "<variables><uuid>b2b2</uuid><direction>outbound</direction><caller_id_number>1000</caller_id_number>"
        "<destination_number>07700900456</destination_number><start_epoch>1763632800</start_epoch>"
        "<duration>30</duration><billsec>25</billsec><hangup_cause>NORMAL_CLEARING</hangup_cause>"
        "<hold_accum_seconds>4</hold_accum_seconds></variables></cdr>")
    return cdrs, recordings


CONNECT_ID = "5fa3f3c0-8d1e-4c2b-9d0a-111111111111"


def connect_fixture(directory: Path) -> tuple[Path, Path]:
    root = directory / "s3"
    key = f"connect/acme/CallRecordings/2026/11/20/{CONNECT_ID}_20261120T09:00_UTC.wav"
    tone(root / key, channels=2)
    ctrs = [
        {"AWSAccountId": "123456789012", "ContactId": CONNECT_ID, "Channel": "VOICE", "InitiationMethod": "INBOUND",
         "InitiationTimestamp": "2026-11-20T09:00:00Z", "DisconnectTimestamp": "2026-11-20T09:04:00Z",
         "Agent": {"Username": "alice", "ConnectedToAgentTimestamp": "2026-11-20T09:00:30Z",
                   "NumberOfHolds": 1, "CustomerHoldDuration": 25, "LongestHoldDuration": 25},
         "Queue": {"Name": "BasicQueue", "EnqueueTimestamp": "2026-11-20T09:00:05Z"},
         "CustomerEndpoint": {"Address": "+447700900123", "Type": "TELEPHONE_NUMBER"},
         "SystemEndpoint": {"Address": "+441234567890", "Type": "TELEPHONE_NUMBER"},
         "Recording": {"Location": f"acme-connect-bucket/{key}", "Status": "AVAILABLE", "Type": "AUDIO"},
         "TransferredToEndpoint": None, "PreviousContactId": None, "InitialContactId": None},
        {"ContactId": "6fa3f3c0-transfer", "Channel": "VOICE", "InitiationMethod": "TRANSFER",
         "InitiationTimestamp": "2026-11-20T09:04:00Z", "DisconnectTimestamp": "2026-11-20T09:06:00Z",
         "Agent": {"Username": "bob"}, "Queue": {"Name": "Billing"},
         "CustomerEndpoint": {"Address": "+447700900123"}, "PreviousContactId": CONNECT_ID,
         "InitialContactId": CONNECT_ID, "TransferredToEndpoint": {"Address": "+441234000000"}},
        {"ContactId": "chat-1", "Channel": "CHAT", "InitiationTimestamp": "2026-11-20T09:00:00Z"},
    ]
    path = directory / "ctr.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in ctrs) + "\n")
    return path, root


def twilio_fixture(directory: Path) -> tuple[Path, Path, Path]:
    calls = {"calls": [
        {"sid": "CA" + "1" * 32, "account_sid": "AC" + "0" * 32, "from": "+447700900123", "to": "+441234567890",
         "start_time": "Fri, 20 Nov 2026 09:00:00 +0000", "end_time": "Fri, 20 Nov 2026 09:02:00 +0000",
         "duration": "120", "direction": "inbound", "status": "completed", "parent_call_sid": None},
        {"sid": "CA" + "2" * 32, "from": "client:alice", "to": "+447700900456",
         "start_time": "Fri, 20 Nov 2026 10:00:00 +0000", "end_time": "Fri, 20 Nov 2026 10:01:00 +0000",
         "duration": "60", "direction": "outbound-dial", "status": "completed"},
        {"sid": "CA" + "3" * 32, "parent_call_sid": "CA" + "1" * 32, "from": "+441234567890", "to": "client:alice",
         "start_time": "Fri, 20 Nov 2026 09:00:05 +0000", "duration": "60", "direction": "outbound-dial",
         "status": "completed"},
        {"sid": "CA" + "4" * 32, "parent_call_sid": "CA" + "1" * 32, "from": "+441234567890", "to": "client:bob",
         "start_time": "Fri, 20 Nov 2026 09:01:05 +0000", "duration": "55", "direction": "outbound-dial",
         "status": "completed"},
    ], "page": 0, "page_size": 50}
    recordings = {"recordings": [{"sid": "RE" + "1" * 32, "call_sid": "CA" + "1" * 32, "duration": "120",
                                  "channels": 2, "status": "completed", "source": "DialVerb"}]}
    calls_file, recordings_file = directory / "calls.json", directory / "recordings.json"
    calls_file.write_text(json.dumps(calls))
    recordings_file.write_text(json.dumps(recordings))
    audio = directory / "audio"
    tone(audio / ("RE" + "1" * 32 + ".wav"), channels=2)
    return calls_file, recordings_file, audio
