"""The speech side of the core hooks (app/core/hooks.py): the analysis asks for a call's metrics, and the call
page (interactions) for its player — recording, who may play what, the talk/silence timeline."""

from collections.abc import Mapping
from typing import Any

from sqlmodel import select

from app.core import hooks
from app.interactions import timeline
from app.interactions.service import interaction_recording
from app.speech import service
from app.speech.models import CallMetrics, CallTranscript


@hooks.CALL_METRICS.handler
def call_metrics(subject: hooks.AnalysisSubject) -> Mapping[str, float]:
    """The call's metrics under the names auto-QA rules use (seconds, percentages of the call, counts)."""
    row = subject.session.exec(select(CallMetrics).where(CallMetrics.interaction_id == subject.interaction_id)).first()
    if row is None:
        return {}
    duration = row.duration_seconds or 0.0

    def pct(seconds: float) -> float:
        return round(100.0 * seconds / duration, 2) if duration > 0 else 0.0

    return {
        "duration_seconds": row.duration_seconds, "hold_seconds": row.hold_total_seconds,
        "hold_count": float(row.hold_count), "silence_seconds": row.silence_total_seconds,
        "silence_pct": pct(row.silence_total_seconds), "silence_longest_seconds": row.silence_longest_seconds,
        "overtalk_seconds": row.overtalk_total_seconds, "overtalk_pct": pct(row.overtalk_total_seconds),
        "overtalk_count": float(row.overtalk_count), "agent_talk_seconds": row.agent_talk_seconds,
        "customer_talk_seconds": row.customer_talk_seconds,
        "interruptions_by_agent": float(row.interruptions_by_agent),
        "longest_monologue_seconds": row.longest_monologue_seconds,
        **({"agent_talk_ratio": row.agent_talk_ratio} if row.agent_talk_ratio is not None else {}),
    }


@hooks.CALL_PLAYER.handler
def call_player(query: hooks.CallPlayerQuery) -> dict[str, Any]:
    """What `interactions/_player.html` needs: the recording, whether this viewer may play it (the redacted copy
    once transcribed; before that only roles in EARSHOT_UNREDACTED_ROLES), the timeline as stored by the
    transcription (else drawn from the transcript's lines)."""
    session, interaction_id = query.session, query.interaction_id
    recording = interaction_recording(session=session, interaction_id=interaction_id)
    may_unredact = service.may_see_unredacted(query.principal, query.settings)
    transcript = session.exec(select(CallTranscript).where(CallTranscript.interaction_id == interaction_id)).first()
    metrics = session.exec(select(CallMetrics).where(CallMetrics.interaction_id == interaction_id)).first()
    if metrics is not None and metrics.intervals is not None:
        line = timeline.from_intervals(metrics.intervals, metrics.duration_seconds)
    else:
        line = timeline.build(query.lines, recording.duration_seconds if recording else None)
    return {"recording": recording, "original": query.original, "may_unredact": may_unredact, "timeline": line,
            "timeline_bars": timeline.bars(line),
            "playable": recording is not None and (transcript is not None or may_unredact),
            "transcript_info": transcript, "call_metrics": metrics, "speaker_note": service.speaker_note(transcript)}
