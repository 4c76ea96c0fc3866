"""Speech tables: one CallTranscript (how the call was transcribed, the audio ranges to mute) and one
CallMetrics row (talk metrics, for the call page, sampling rules, auto-QA and reports) per call.
The transcript lines themselves are `Segment` rows (app/interactions/models.py)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.core.models import now_column


class CallTranscript(SQLModel, table=True):
    __tablename__ = "call_transcript"
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", unique=True)
    recording_id: int = Field(foreign_key="recording.id", index=True)
    model: str = Field(max_length=200)
    language: str | None = Field(default=None, max_length=20)
    speaker_separation: str = Field(max_length=20, description='"channels" (stereo: speakers known) or "none".')
    audio_seconds: float
    processing_seconds: float
    word_count: int
    redaction_ranges: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False),
        description="Audio time ranges holding personal data: {start, end, kind, channel, speaker}.")
    redacted_audio_sha256: str | None = Field(
        default=None, max_length=64,
        description="A copy of the audio (16 kHz WAV) with the redaction ranges beeped, in the recordings store.")
    created_at: datetime = now_column()


class CallMetricsBase(SQLModel):
    duration_seconds: float
    agent_talk_seconds: float
    customer_talk_seconds: float
    unknown_talk_seconds: float
    agent_talk_ratio: float | None = None
    silence_total_seconds: float
    silence_longest_seconds: float
    overtalk_total_seconds: float
    overtalk_count: int
    hold_count: int
    hold_total_seconds: float
    interruptions_by_agent: int
    interruptions_by_customer: int
    turn_count: int
    longest_monologue_seconds: float
    longest_monologue_speaker: str | None = Field(default=None, max_length=20)
    agent_words_per_minute: float | None = None
    customer_words_per_minute: float | None = None
    hold_min_seconds: float | None = Field(default=None, description="The hold threshold these figures used.")


class CallMetrics(CallMetricsBase, table=True):
    __tablename__ = "call_metrics"
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", unique=True)
    computed_at: datetime = now_column()
    intervals: dict[str, list[list[float]]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description='The spans behind the figures: {"agent", "customer", "unknown", "silence", "hold", '
                    '"overtalk": [[start, end], ...]}; what the call page draws and totals.')


class CallMetricsPublic(CallMetricsBase):
    pass
