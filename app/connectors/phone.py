"""Phone systems → calls. Each reader yields (record number, CallRecord or the InvalidInput that rejects it).

Formats followed (field names exactly as published):
- Asterisk 18/20 `cdr_csv` (Master.csv, no header row; the columns of the Asterisk CDR specification in the
  order cdr_csv writes them with loguniqueid=yes and loguserfield=yes): accountcode, src, dst, dcontext,
  clid, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition,
  amaflags, uniqueid, userfield. Times are local unless cdr_csv's usegmtime=yes (pass the zone).
  MixMonitor recordings are matched by the uniqueid inside the file name (e.g. `${UNIQUEID}.wav`).
- FreeSWITCH 1.10 mod_json_cdr (or mod_xml_cdr, same variables under <cdr><variables>): one document per call with `variables` (values URL-encoded by
  default, `encode-values=true`): uuid, direction, caller_id_number, destination_number, start_epoch /
  start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause, and the recording path from
  record_session (`last_app`/`last_arg`) or a `record_path`/`record_file` variable; mod_callcenter's
  cc_queue and cc_agent name the queue and agent; hold_accum_seconds the time on hold.
- Amazon Connect contact trace records (CTR data model, Admin Guide 2024): ContactId, Channel,
  InitiationMethod, InitiationTimestamp, DisconnectTimestamp, Agent{Username, ConnectedToAgentTimestamp},
  Queue{Name}, CustomerEndpoint{Address}, Recording{Location} / Recordings[{Location}],
  TransferredToEndpoint{Address}, PreviousContactId, InitialContactId. Recordings live in a folder that
  mirrors the S3 layout: connect/<instance>/CallRecordings/YYYY/MM/DD/<ContactId>_<timestamp>_UTC.wav.
- Twilio REST API 2010-04-01: Call resource (sid, from, to, start_time, end_time, duration, direction,
  status, parent_call_sid) and Recording resource (sid, call_sid, duration, channels); audio files named by
  the Recording sid (or the Call sid).
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

from app.connectors.common import (
    CallRecord,
    audio_files,
    find_audio,
    json_items,
    parse_seconds,
    parse_time,
)
from app.core.errors import InvalidInput
from app.core.inputs import decode_text, undecodable_bytes
from app.ingest.models import TransferIn

RecordStream = Iterator[tuple[int, CallRecord | InvalidInput]]

ASTERISK_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
                    "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
                    "uniqueid", "userfield")
ASTERISK_DISPOSITIONS = {"ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"}
OUTBOUND_CONTEXTS = ("from-internal", "internal", "outbound", "from-agents")


def channel_peer(channel: str) -> str | None:
    """'PJSIP/alice-0000002a' → 'alice'; 'Local/...' and empty → None."""
    if "/" not in channel or channel.startswith("Local/"):
        return None
    peer = channel.split("/", 1)[1]
    return peer.rsplit("-", 1)[0] if "-" in peer else peer


def read_asterisk(path: Path, *, recordings: Path | None, zone: str = "UTC") -> RecordStream:
    """Master.csv rows as calls; the uniqueid is the external id."""
    files = audio_files(recordings)
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field over the CSV size limit: report the line, read on
                yield reader.line_num, InvalidInput(f"not valid CSV: {exc}")
                continue
            number = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            try:
                yield number, _asterisk_record(row, files=files, zone=zone)
            except InvalidInput as exc:
                yield number, exc


def _asterisk_record(row: list[str], *, files: list[Path], zone: str) -> CallRecord:
    if len(row) not in (len(ASTERISK_COLUMNS), len(ASTERISK_COLUMNS) - 1):
        raise InvalidInput(f"expected {len(ASTERISK_COLUMNS)} cdr_csv columns, found {len(row)}")
    cdr = dict(zip(ASTERISK_COLUMNS, (cell.strip() for cell in row), strict=False))
    if not cdr["uniqueid"]:
        raise InvalidInput("uniqueid is empty")
    if cdr["disposition"] not in ASTERISK_DISPOSITIONS:
        raise InvalidInput(f"disposition {cdr['disposition']!r} is not one of {', '.join(sorted(ASTERISK_DISPOSITIONS))}")
    started = parse_time(cdr["start"], what="start", zone=zone)
    answered = parse_time(cdr["answer"], what="answer", zone=zone) if cdr["answer"] else None
    duration = parse_seconds(cdr["duration"], what="duration")
    billsec = parse_seconds(cdr["billsec"], what="billsec")
    outbound = cdr["dcontext"] in OUTBOUND_CONTEXTS
    queue = cdr["lastdata"].split(",")[0] or None if cdr["lastapp"] == "Queue" else None
    return CallRecord(
        external_id=cdr["uniqueid"], started_at=started, direction="outbound" if outbound else "inbound",
        duration_seconds=duration, agent=channel_peer(cdr["channel"] if outbound else cdr["dstchannel"]),
        queue=queue, customer_phone=cdr["dst"] if outbound else cdr["src"],
        audio=find_audio(files, cdr["uniqueid"]), channel_map="mixed",
        extra={"disposition": cdr["disposition"], "billsec": billsec, "clid": cdr["clid"],
               "dcontext": cdr["dcontext"], "accountcode": cdr["accountcode"], "userfield": cdr.get("userfield"),
               "answered_at": answered.isoformat() if answered else None})


# ---------------------------------------------------------------- FreeSWITCH


def read_freeswitch(path: Path, *, recordings: Path | None, zone: str = "UTC") -> RecordStream:
    """A mod_json_cdr file, or a directory of them (numbered by file in name order)."""
    files = audio_files(recordings)
    cdr_files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".xml")) if path.is_dir() else [path]
    for number, cdr_file in enumerate(cdr_files, start=1):
        try:
            text = decode_text(cdr_file.read_bytes(), what=cdr_file.name)
            bad = undecodable_bytes(text)
            if bad is not None:
                raise InvalidInput(bad)
            document = _xml_cdr(text) if text.lstrip().startswith("<") else json.loads(text)
            record = _freeswitch_record(document, files=files, zone=zone)
            record.item = cdr_file.name
            yield number, record
        except json.JSONDecodeError as exc:
            yield number, InvalidInput(f"{cdr_file.name}: not valid JSON: {exc.msg} at line {exc.lineno}, "
                                       f"column {exc.colno}")
        except RecursionError:
            yield number, InvalidInput(f"{cdr_file.name}: not valid JSON: nested too deeply")
        except ElementTree.ParseError as exc:
            yield number, InvalidInput(f"{cdr_file.name}: not valid XML: {exc}")
        except InvalidInput as exc:
            yield number, InvalidInput(f"{cdr_file.name}: {exc.message}")


def _xml_cdr(text: str) -> dict[str, Any]:
    """mod_xml_cdr's <cdr><variables><uuid>...</uuid>...</variables></cdr> as the JSON CDR's shape."""
    root = ElementTree.fromstring(text)  # noqa: S314 - a local CDR file the admin points us at
    variables = root.find("variables")
    if root.tag != "cdr" or variables is None:
        raise InvalidInput("no <cdr><variables> (expected a mod_xml_cdr document)")
    return {"variables": {child.tag: child.text or "" for child in variables}}


def _freeswitch_record(document: Any, *, files: list[Path], zone: str) -> CallRecord:
    if not isinstance(document, dict) or not isinstance(document.get("variables"), dict):
        raise InvalidInput("no `variables` object (expected a mod_json_cdr document)")
    variables = {str(k): unquote(str(v)) for k, v in document["variables"].items()}
    uuid = variables.get("uuid") or str(document.get("channel_data", {}).get("uuid", "") or "")
    if not uuid:
        raise InvalidInput("variables.uuid is missing")
    if variables.get("start_epoch") and variables["start_epoch"] != "0":
        started = parse_time(variables["start_epoch"], what="start_epoch")
    else:
        started = parse_time(variables.get("start_stamp"), what="start_stamp", zone=zone)
    duration = parse_seconds(variables.get("duration"), what="duration")
    record_path = variables.get("record_path") or variables.get("record_file") or (
        variables.get("last_arg", "").split(" ")[0] if variables.get("last_app") == "record_session" else "")
    audio = find_audio(files, Path(record_path).name) if record_path else None
    audio = audio or find_audio(files, uuid)
    outbound = variables.get("direction") == "outbound"
    agent = (variables.get("cc_agent") or "").split("@")[0] or None
    return CallRecord(
        external_id=uuid, started_at=started, direction="outbound" if outbound else "inbound",
        duration_seconds=duration, agent=agent, queue=(variables.get("cc_queue") or "").split("@")[0] or None,
        customer_phone=variables.get("destination_number") if outbound else variables.get("caller_id_number"),
        audio=audio, channel_map="mixed",
        extra={"hangup_cause": variables.get("hangup_cause"), "billsec": variables.get("billsec"),
               "hold_seconds": variables.get("hold_accum_seconds"),
               "destination_number": variables.get("destination_number")})


# ---------------------------------------------------------------- Amazon Connect


def read_connect(path: Path, *, recordings: Path | None) -> RecordStream:
    """CTRs as a JSON array, JSON lines (Kinesis Firehose output) or one object; VOICE contacts only."""
    files = audio_files(recordings)
    for number, raw in json_items(path, keys=("ContactTraceRecords", "Records")):
        if isinstance(raw, InvalidInput):
            yield number, raw
            continue
        try:
            record = _connect_record(raw, files=files, recordings=recordings)
            if record is not None:
                yield number, record
        except InvalidInput as exc:
            yield number, exc


def _connect_record(ctr: Any, *, files: list[Path], recordings: Path | None) -> CallRecord | None:
    if not isinstance(ctr, dict):
        raise InvalidInput("expected a contact trace record object")
    contact_id = str(ctr.get("ContactId") or "")
    if not contact_id:
        raise InvalidInput("ContactId is missing")
    if ctr.get("Channel", "VOICE") != "VOICE":
        return None  # chats and tasks carry no recording; their transcripts come through other exports
    started = parse_time(ctr.get("InitiationTimestamp"), what="InitiationTimestamp")
    ended = parse_time(ctr["DisconnectTimestamp"], what="DisconnectTimestamp") if ctr.get(
        "DisconnectTimestamp") else None
    agent = ctr.get("Agent") or {}
    queue = ctr.get("Queue") or {}
    if not isinstance(agent, dict) or not isinstance(queue, dict):
        raise InvalidInput("Agent and Queue must be objects")
    locations = [r.get("Location") for r in (ctr.get("Recordings") or []) if isinstance(r, dict)]
    if isinstance(ctr.get("Recording"), dict):
        locations.insert(0, ctr["Recording"].get("Location"))
    audio = None
    for location in filter(None, locations):
        audio = _connect_recording(str(location), recordings)
        if audio:
            break
    audio = audio or find_audio(files, contact_id)
    transferred = (ctr.get("TransferredToEndpoint") or {}).get("Address")
    return CallRecord(
        external_id=contact_id, started_at=started,
        direction="outbound" if ctr.get("InitiationMethod") == "OUTBOUND" else "inbound",
        duration_seconds=(ended - started).total_seconds() if ended else None,
        agent=agent.get("Username"), queue=queue.get("Name"),
        customer_phone=(ctr.get("CustomerEndpoint") or {}).get("Address"), audio=audio,
        extra={"initiation_method": ctr.get("InitiationMethod"), "previous_contact_id": ctr.get("PreviousContactId"),
               "initial_contact_id": ctr.get("InitialContactId"), "transferred_to": transferred,
               "disconnect_reason": ctr.get("DisconnectReason"), "hold_count": agent.get("NumberOfHolds"),
               "hold_seconds": agent.get("CustomerHoldDuration"),
               "longest_hold_seconds": agent.get("LongestHoldDuration"),
               "agent_connected_at": agent.get("ConnectedToAgentTimestamp")})


def _connect_recording(location: str, recordings: Path | None) -> Path | None:
    """'bucket/connect/inst/CallRecordings/2026/11/23/<id>_...wav' → the same path under `recordings`."""
    if recordings is None:
        return None
    parts = Path(location.removeprefix("s3://")).parts
    for start in range(len(parts)):
        candidate = recordings.joinpath(*parts[start:])
        if candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------- Twilio


def read_twilio(calls_file: Path, *, recordings_file: Path | None, audio_dir: Path | None) -> RecordStream:
    """Call resources ({"calls": [...]} list page, an array or JSON lines) with their Recording resources."""
    files = audio_files(audio_dir)
    by_call: dict[str, dict[str, Any]] = {}
    if recordings_file is not None:
        for _, raw in json_items(recordings_file, keys=("recordings",)):
            if isinstance(raw, dict) and raw.get("call_sid"):
                by_call.setdefault(str(raw["call_sid"]), raw)
    calls = list(json_items(calls_file, keys=("calls",)))
    children: dict[str, list[dict[str, Any]]] = {}
    for _, raw in calls:  # <Dial> legs: child calls (parent_call_sid) to the agents, in order
        if isinstance(raw, dict) and raw.get("parent_call_sid"):
            children.setdefault(str(raw["parent_call_sid"]), []).append(raw)
    for number, raw in calls:
        if isinstance(raw, InvalidInput):
            yield number, raw
            continue
        if isinstance(raw, dict) and raw.get("parent_call_sid"):
            continue  # part of its parent call (a leg), not a call of its own
        try:
            sid = str(raw.get("sid", "")) if isinstance(raw, dict) else ""
            record = _twilio_record(raw, recording=by_call.get(sid), files=files)
            _twilio_legs(record, children.get(sid, []))
            yield number, record
        except InvalidInput as exc:
            yield number, exc


def _twilio_legs(record: CallRecord, legs: list[dict[str, Any]]) -> None:
    """The first dialled agent takes the call; each later one is a transfer at its offset."""
    agents = []
    for leg in sorted(legs, key=lambda c: parse_time(c.get("start_time") or c.get("date_created"),
                                                     what="child start_time")):
        target = str(leg.get("to") or "")
        if target.startswith("client:"):
            offset = (parse_time(leg.get("start_time"), what="child start_time") - record.started_at)
            agents.append((target.removeprefix("client:"), max(offset.total_seconds(), 0.0), str(leg.get("sid"))))
    if not agents:
        return
    record.agent = record.agent or agents[0][0]
    record.transfers = [TransferIn(agent=name, offset_seconds=offset) for name, offset, _ in agents[1:]]
    record.extra["child_call_sids"] = [sid for _, _, sid in agents]


def _twilio_record(call: Any, *, recording: dict[str, Any] | None, files: list[Path]) -> CallRecord:
    if not isinstance(call, dict):
        raise InvalidInput("expected a Call resource object")
    sid = str(call.get("sid") or "")
    if not sid.startswith("CA"):
        raise InvalidInput(f"sid {sid!r} is not a Call sid (CA...)")
    direction = str(call.get("direction") or "inbound")
    if direction not in ("inbound", "outbound-api", "outbound-dial", "trunking-originating",
                         "trunking-terminating"):
        raise InvalidInput(f"direction {direction!r} is not a Twilio call direction")
    started = parse_time(call.get("start_time") or call.get("date_created"), what="start_time")
    duration = parse_seconds(call.get("duration"), what="duration")
    outbound = direction.startswith("outbound")
    sender, receiver = str(call.get("from") or ""), str(call.get("to") or "")
    agent_side, customer_side = (sender, receiver) if outbound else (receiver, sender)
    audio = None
    channels = 1
    if recording is not None:
        audio = find_audio(files, str(recording.get("sid", "")))
        channels = int(recording.get("channels") or 1)
    audio = audio or find_audio(files, sid)
    # dual-channel recordings: the first channel is the call's `from` party
    channel_map = "agent,customer" if outbound else "customer,agent"
    return CallRecord(
        external_id=sid, started_at=started, direction="outbound" if outbound else "inbound",
        duration_seconds=duration,
        agent=agent_side.removeprefix("client:") if agent_side.startswith("client:") else None,
        customer_phone=customer_side or None, audio=audio, channel_map=channel_map if channels == 2 else "mixed",
        extra={"status": call.get("status"), "parent_call_sid": call.get("parent_call_sid"),
               "recording_sid": recording.get("sid") if recording else None})
