"""JSON endpoints: queue a transcription, read a call's transcript and talk metrics."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from app.auth.deps import CurrentPrincipal, QueueDep, SessionDep, SettingsDep, require_roles
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.security import Principal
from app.core.web import stored_file
from app.speech import service

router = APIRouter(prefix="/api", tags=["speech"], responses=STANDARD_ERRORS)

TranscriberPrincipal = Annotated[Principal, Depends(require_roles(*service.REQUEST_ROLES))]


class TranscriptionQueued(BaseModel):
    job_id: int
    status: str
    recording_id: int


@router.post("/recordings/{recording_id}/transcribe", status_code=202, responses=error_responses(404, 409))
def transcribe(recording_id: int, principal: TranscriberPrincipal, session: SessionDep,
               queue: QueueDep) -> TranscriptionQueued:
    """Queue a (re-)transcription (admins, evaluators). Returns the job; poll `/api/jobs/{job_id}`.
    While one is queued or running for this recording, that job is returned."""
    job = service.request_transcription(session=session, queue=queue, recording_id=recording_id, actor=principal)
    assert job.id is not None
    return TranscriptionQueued(job_id=job.id, status=job.status, recording_id=recording_id)


@router.get("/interactions/{interaction_id}/transcript", responses=error_responses(404))
def transcript(interaction_id: int, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
               view: Annotated[Literal["redacted", "original"], Query()] = "redacted") -> dict[str, Any]:
    """The call's lines in time order with speaker, times and word timings, plus its talk metrics.
    Personal data is redacted unless `view=original` (roles in EARSHOT_UNREDACTED_ROLES, by default admins
    and evaluators; every such read is audited)."""
    found = service.get_transcript(session=session, principal=principal, interaction_id=interaction_id,
                                   original=view == "original", settings=settings)
    return service.transcript_as_json(found)


@router.get("/interactions/{interaction_id}/redacted-audio", response_class=FileResponse,
            responses={**error_responses(404), 200: {"content": {"audio/wav": {}}}})
def redacted_audio(interaction_id: int, principal: CurrentPrincipal, session: SessionDep,
                   settings: SettingsDep) -> FileResponse:
    """The call's audio with every redacted range beeped (16 kHz WAV), for anyone who may see the call.
    404 when nothing was redacted (the original audio is then safe to play)."""
    path = service.redacted_audio_path(session=session, principal=principal, interaction_id=interaction_id,
                                       settings=settings)
    return stored_file(path, media_type="audio/wav", filename=f"interaction-{interaction_id}-redacted.wav",
                       inline=True)


def first_request(request: Request) -> bool:
    """An audio element fetches one playback in several Range requests; only the first one is an access."""
    return request.headers.get("range", "bytes=0-").replace(" ", "").startswith("bytes=0-")


@router.get("/interactions/{interaction_id}/audio", response_class=FileResponse,
            responses={**error_responses(403, 404, 409), 200: {"content": {"audio/wav": {}}}})
def player_audio(interaction_id: int, request: Request, principal: CurrentPrincipal, session: SessionDep,
                 settings: SettingsDep) -> FileResponse:
    """The audio the call's player plays: the copy with personal data beeped when the transcription found any,
    the original when it found none. Before transcription only roles in EARSHOT_UNREDACTED_ROLES may play it
    (audited); others get 409 until it is transcribed."""
    path, media_type, redacted = service.player_audio(session=session, principal=principal,
                                                      interaction_id=interaction_id, settings=settings,
                                                      first_request=first_request(request))
    suffix = "-redacted.wav" if redacted else ""
    return stored_file(path, media_type=media_type, filename=f"interaction-{interaction_id}{suffix}", inline=True)
