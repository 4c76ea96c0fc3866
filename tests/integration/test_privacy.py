# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""Personal data in calls: the player plays the redacted audio, the original audio and transcript only for the
roles in EARSHOT_UNREDACTED_ROLES, every such access audited once per playback, and stored files served so a
browser can never run them as a page."""

import json

import pytest
from sqlmodel import col, select

from app.core.models import AuditEvent
from app.core.storage import BlobStore
from app.interactions.models import Segment
from app.speech.models import CallTranscript
from tests.conftest import sign_in
from tests.integration.interactions_support import agents, audio_dir, no_transcription_jobs, sox_tone  # noqa: F401

pytestmark = pytest.mark.integration
HTML = {"accept": "text/html"}
META = {"external_id": "priv-1", "source": "pbx", "started_at": "2026-09-14T09:31:00+00:00", "agent": "ada"}


@pytest.fixture
def call(client, session, settings, agents, audio_dir, make_user):
    """Ada's call, uploaded; an evaluator and a coach of her team exist."""
    make_user("evaluator", username="eva")
    sign_in(client, "admin")
    body = client.post("/api/recordings", data={"metadata": json.dumps(META)},
                       files={"file": ("c.wav", (audio_dir / "stereo.wav").read_bytes())}).json()
    return body


def transcribe_with_redaction(session, settings, call, audio_dir, tmp_path):
    """What the transcription job stores: lines with their redacted text and a beeped copy of the audio."""
    beeped = sox_tone(tmp_path / "beeped.wav", channels=1, frequency=1000)
    stored = BlobStore(settings.recordings_dir).put_chunks([beeped.read_bytes()], max_bytes=10**7)
    session.add(CallTranscript(interaction_id=call["interaction_id"], recording_id=call["recording_id"],
                               model="tiny.en", speaker_separation="channels", audio_seconds=1.0,
                               processing_seconds=0.1, word_count=8,
                               redaction_ranges=[{"start": 0.2, "end": 0.6, "kind": "card", "channel": 1}],
                               redacted_audio_sha256=stored.sha256))
    session.add(Segment(interaction_id=call["interaction_id"], seq=0, speaker="customer", start=0.0, end=0.9,
                        text="my card is 4111 1111 1111 1111", redacted_text="my card is [CARD]"))
    session.commit()
    return beeped.read_bytes()


def audits(session, action):
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))))


def test_original_audio_is_for_configured_roles_and_audited_once_per_playback(client, session, call, audio_dir):
    sign_in(client, "ada")  # her own call
    refused = client.get(f"/api/recordings/{call['recording_id']}/audio")
    assert refused.status_code == 403 and "EARSHOT_UNREDACTED_ROLES" in refused.json()["error"]["message"]
    assert audits(session, "recording.play_original") == []

    sign_in(client, "eva")
    first = client.get(f"/api/recordings/{call['recording_id']}/audio")
    assert first.status_code == 200 and first.content == (audio_dir / "stereo.wav").read_bytes()
    assert first.headers["content-type"] == "audio/wav"  # from decoding, not the upload's claim
    assert first.headers["content-disposition"].startswith("attachment")
    assert first.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert first.headers["cache-control"] == "private, no-store"
    assert first.headers["x-content-type-options"] == "nosniff"
    # the player's follow-up range requests of the same playback are not new accesses
    partial = client.get(f"/api/recordings/{call['recording_id']}/audio", headers={"range": "bytes=100-"})
    assert partial.status_code == 206
    [event] = audits(session, "recording.play_original")
    assert event.actor_name and event.record_id == str(call["recording_id"])


def test_player_plays_redacted_copy_once_transcribed(client, session, settings, call, audio_dir, tmp_path):
    sign_in(client, "ada")
    assert client.get(f"/api/interactions/{call['interaction_id']}/audio").status_code == 409
    page = client.get(f"/interactions/{call['interaction_id']}", headers=HTML).text
    assert "once the call is transcribed" in page and "data-player-audio" not in page

    beeped = transcribe_with_redaction(session, settings, call, audio_dir, tmp_path)
    played = client.get(f"/api/interactions/{call['interaction_id']}/audio")
    assert played.status_code == 200 and played.content == beeped
    assert played.headers["content-disposition"].startswith("inline")
    page = client.get(f"/interactions/{call['interaction_id']}", headers=HTML).text
    assert "my card is [CARD]" in page and "4111" not in page
    assert "View unredacted" not in page  # not offered to an agent
    assert client.get(f"/interactions/{call['interaction_id']}?view=original", headers=HTML).status_code == 403
    assert audits(session, "recording.play_original") == [] and audits(session, "transcript.view_original") == []


def test_evaluator_switches_to_the_original_view_and_it_is_audited(client, session, settings, call, audio_dir,
                                                                  tmp_path):
    transcribe_with_redaction(session, settings, call, audio_dir, tmp_path)
    sign_in(client, "eva")
    page = client.get(f"/interactions/{call['interaction_id']}", headers=HTML).text
    assert "my card is [CARD]" in page and "4111" not in page  # redacted by default, for everybody
    assert f'href="/interactions/{call["interaction_id"]}?view=original"' in page
    original = client.get(f"/interactions/{call['interaction_id']}?view=original", headers=HTML).text
    assert "4111 1111 1111 1111" in original and f'src="/api/recordings/{call["recording_id"]}/audio"' in original
    [event] = audits(session, "transcript.view_original")
    assert event.record_id == str(call["interaction_id"])


def test_unredacted_roles_come_from_configuration(client, session, settings, call, audio_dir, tmp_path):
    transcribe_with_redaction(session, settings, call, audio_dir, tmp_path)
    settings.unredacted_roles = ["admin"]
    sign_in(client, "eva")
    assert client.get(f"/api/recordings/{call['recording_id']}/audio").status_code == 403
    assert client.get(f"/api/interactions/{call['interaction_id']}/transcript?view=original").status_code == 403
    assert client.get(f"/api/interactions/{call['interaction_id']}/transcript").status_code == 200
    sign_in(client, "admin")
    body = client.get(f"/api/interactions/{call['interaction_id']}/transcript?view=original").json()
    assert body["segments"][0]["text"] == "my card is 4111 1111 1111 1111"
    assert len(audits(session, "transcript.view_original")) == 1


def test_an_unknown_role_in_configuration_is_refused_at_start_up(tmp_path):
    from pydantic import ValidationError

    from tests.conftest import make_settings

    with pytest.raises(ValidationError, match="unredacted_roles"):
        make_settings(tmp_path, unredacted_roles=["admin", "superuser"])
