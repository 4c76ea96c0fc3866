"""A call's stored recording: finding it, where its audio lives, and the media type to serve it with. The one
place for these, used by the importers (original audio) and by speech (the player)."""

from pathlib import Path

from sqlmodel import Session

from app.core.errors import NotFound
from app.core.settings import Settings
from app.core.storage import BlobStore
from app.interactions.models import Recording

AUDIO_MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "m4a": "audio/mp4",
                     "ogg": "audio/ogg"}


def get_recording(*, session: Session, recording_id: int) -> Recording:
    """The recording; NotFound when there is none with this id (no visibility check: callers check the call)."""
    recording = session.get(Recording, recording_id)
    if recording is None:
        raise NotFound(f"recording {recording_id} not found")
    return recording


def recording_media_type(recording: Recording) -> str:
    """The media type of a stored recording, from the format found by decoding it (never the uploader's claim)."""
    return AUDIO_MEDIA_TYPES.get(recording.format.split("/")[0], "application/octet-stream")


def recording_path(*, settings: Settings, recording: Recording) -> Path:
    """The stored original audio; NotFound once retention deleted it or the file is gone."""
    path = BlobStore(settings.recordings_dir).path_for(recording.sha256)
    if recording.audio_deleted_at is not None or not path.exists():
        raise NotFound("the audio of this recording is no longer stored")
    return path
