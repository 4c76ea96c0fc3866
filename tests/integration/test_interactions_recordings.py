# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""Recording uploads and the calls manifest: probing, content-addressed storage, idempotency, limits, scope."""

import json
import shutil

from sqlmodel import select

from app.core.jobs import _HANDLERS, JobSpec, registered_kinds
from app.core.models import Job
from app.ingest.calls import import_calls
from app.interactions import customers
from app.interactions import service as interactions
from app.interactions.models import InteractionLeg, Recording
from app.main import create_app
from tests.conftest import make_settings, sign_in
from tests.integration.interactions_support import agents, audio_dir, no_transcription_jobs, sox_tone  # noqa: F401

META = {"external_id": "call-1", "source": "pbx", "started_at": "2026-09-14T09:31:00+00:00", "agent": "ada",
        "queue": "billing", "customer": {"name": "Maria Lopez", "phone": "07700 900123"},
        "channel_map": "agent,customer"}


def upload(client, path, meta=META, name=None):
    return client.post("/api/recordings", data={"metadata": json.dumps(meta)},
                       files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")})


def stored_files(settings):
    root = settings.recordings_dir
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_upload_probes_stores_once_and_is_idempotent(client, session, settings, agents, audio_dir):
    sign_in(client, "admin")
    first = upload(client, audio_dir / "stereo.wav")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "created" and body["format"] == "wav" and body["duration_seconds"] == 1.0
    if "speech.transcribe" not in registered_kinds():
        assert body["transcription_job_id"] is None  # nothing to queue without the speech feature
    recording = session.get(Recording, body["recording_id"])
    assert (recording.channels, recording.sample_rate, recording.channel_map) == (2, 16000, {"0": "agent",
                                                                                          "1": "customer"})
    interaction = session.get(type(interactions.get_interaction(session=session,
                                                                interaction_id=body["interaction_id"])),
                              body["interaction_id"])
    assert interaction.channel == "call" and interaction.duration_seconds == 1.0
    assert interaction.customer_id == customers.find_customer_by_identity(
        session=session, kind="phone", value="+447700900123").id

    again = upload(client, audio_dir / "stereo.wav")
    assert again.json()["status"] == "unchanged" and again.json()["recording_id"] == body["recording_id"]
    other_call = upload(client, audio_dir / "stereo.wav", dict(META, external_id="call-2"))
    assert other_call.json()["status"] == "created"
    assert stored_files(settings) == [recording.sha256]  # same content stored once

    audio = client.get(f"/api/recordings/{body['recording_id']}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == (audio_dir / "stereo.wav").read_bytes()


def test_bad_audio_is_refused_with_reason_and_nothing_stored(client, session, settings, agents, audio_dir, tmp_path):
    sign_in(client, "admin")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio at all\n" * 50)
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes((audio_dir / "long.wav").read_bytes()[:30000])
    for path, reason in [(empty, "empty"), (text, "not a readable audio file"), (truncated, "truncated")]:
        response = upload(client, path)
        assert response.status_code == 422, response.text
        assert reason in response.json()["error"]["message"]
    assert stored_files(settings) == []
    assert session.exec(select(Recording)).first() is None
    assert interactions.get_by_external_id(session=session, source="pbx", external_id="call-1") is None

    bad_meta = client.post("/api/recordings", data={"metadata": "{not json"},
                           files={"file": ("a.wav", (audio_dir / "stereo.wav").read_bytes())})
    assert bad_meta.status_code == 422
    missing = client.post("/api/recordings", data={"metadata": json.dumps({"source": "x"})},
                          files={"file": ("a.wav", (audio_dir / "stereo.wav").read_bytes())})
    assert missing.status_code == 422 and "external_id" in missing.json()["error"]["message"]
    ghost = upload(client, audio_dir / "stereo.wav", dict(META, agent="ghost"))
    assert ghost.status_code == 422 and stored_files(settings) == []


def test_oversize_upload_is_413(sessions, queue, tmp_path, agents, audio_dir):
    from fastapi.testclient import TestClient

    small = make_settings(tmp_path / "small", max_upload_bytes=10_000)
    with TestClient(create_app(small, sessions=sessions, queue=queue)) as client:
        sign_in(client, "admin")
        response = upload(client, audio_dir / "stereo.wav")
        assert response.status_code == 413
        assert stored_files(small) == []


def test_transcription_is_queued_when_the_speech_handler_exists(client, session, agents, audio_dir):
    calls = []
    previous = _HANDLERS.get("speech.transcribe")  # the speech feature's real handler, once merged
    _HANDLERS["speech.transcribe"] = JobSpec("speech.transcribe", lambda ctx: calls.append(ctx.payload) or {}, 3)
    try:
        sign_in(client, "admin")
        body = upload(client, audio_dir / "stereo.wav").json()
        assert calls == [{"recording_id": body["recording_id"]}]
        job = session.exec(select(Job).where(Job.kind == "speech.transcribe")).one()
        assert job.payload == {"recording_id": body["recording_id"]} and job.status == "done"
        upload(client, audio_dir / "stereo.wav")
        assert len(calls) == 1
    finally:
        if previous is None:
            _HANDLERS.pop("speech.transcribe", None)
        else:
            _HANDLERS["speech.transcribe"] = previous


def test_calls_manifest_with_transfers_bad_rows_and_reimport(session, settings, agents, audio_dir, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(audio_dir / "stereo.wav", calls / "call-001.wav")
    shutil.copy(audio_dir / "long.wav", calls / "call-002.wav")
    shutil.copy(audio_dir / "mono.flac", calls / "call-003.flac")
    (calls / "call-004.wav").write_text("not audio")
    (calls / "manifest.csv").write_text(
        "external_id,file,started_at,direction,queue,agent,customer_phone,customer_name,customer_email,channel_map,transfers\n"
        "call-001,call-001.wav,2026-09-14T09:31:00+00:00,inbound,billing,ada,07700 900123,Maria Lopez,maria.lopez@example.com,\"agent,customer\",\n"
        "call-002,call-002.wav,2026-09-15T10:00:00+00:00,inbound,billing,ada,+447700900999,Tim,,\"agent,customer\",ben@billing@1;cara@technical@2\n"
        "call-003,call-003.flac,2026-09-16T10:00:00+00:00,outbound,support,dan,,Mono Person,mono@example.com,mixed,\n"
        "call-004,call-004.wav,2026-09-16T11:00:00+00:00,inbound,support,dan,,,,mixed,\n"
        "call-005,missing.wav,2026-09-16T12:00:00+00:00,inbound,support,dan,,,,mixed,\n"
        "call-006,call-001.wav,yesterday,inbound,support,dan,,,,mixed,\n"
        "call-007,call-001.wav,2026-09-16T12:00:00+00:00,inbound,support,dan,,,,mixed,ben@billing\n")
    seen = []
    report = import_calls(session=session, settings=settings, queue=None, directory=calls, source="demo",
                          progress=lambda done, total: seen.append((done, total)))
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert [(r.line, r.item) for r in report.rejected] == [(5, "call-004"), (6, "call-005"), (7, "call-006"), (8, "call-007")]
    assert "not a readable audio file" in report.rejected[0].reason and "not found" in report.rejected[1].reason
    assert seen[-1] == (7, 7)
    transferred = interactions.get_by_external_id(session=session, source="demo", external_id="call-002")
    legs = session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == transferred.id)
                        .order_by(InteractionLeg.seq)).all()
    assert [(leg.agent_id, leg.queue) for leg in legs] == [(agents["ada"].id, "billing"), (agents["ben"].id, "billing"),
                                                          (agents["cara"].id, "technical")]
    assert transferred.agent_id == agents["cara"].id
    mono = interactions.interaction_recording(session=session, interaction_id=interactions.get_by_external_id(
        session=session, source="demo", external_id="call-003").id)
    assert mono.channel_map == {"0": "mixed"} and mono.format == "flac"

    again = import_calls(session=session, settings=settings, queue=None, directory=calls, source="demo")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_audio_and_interaction_are_scoped(client, session, agents, audio_dir, make_user):
    sign_in(client, "admin")
    body = upload(client, audio_dir / "stereo.wav").json()  # ada's call
    sign_in(client, "ben")
    assert client.get(f"/api/recordings/{body['recording_id']}/audio").status_code == 404
    assert client.get(f"/api/interactions/{body['interaction_id']}").status_code == 404
    assert client.get(f"/api/interactions/{body['interaction_id']}/audio").status_code == 404
    sign_in(client, "ada")
    assert client.get(f"/api/interactions/{body['interaction_id']}").status_code == 200
    # her own call, but the original audio is for EARSHOT_UNREDACTED_ROLES, and the player's (redacted) audio
    # waits for the transcription that finds the personal data to beep
    assert client.get(f"/api/recordings/{body['recording_id']}/audio").status_code == 403
    assert client.get(f"/api/interactions/{body['interaction_id']}/audio").status_code == 409
