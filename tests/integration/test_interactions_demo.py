# ruff: noqa: F811 - pytest fixtures imported from interactions_support
"""The demo loader imports whatever demo files exist, idempotently, and skips missing ones."""

import shutil

from sqlmodel import func, select

from app.core.jobs import Runtime
from app.ingest import demo
from app.interactions.models import Interaction, Message
from tests.conftest import make_settings
from tests.integration.interactions_support import FIXTURES, agents, audio_dir, no_transcription_jobs  # noqa: F401


def test_demo_loads_idempotently_and_skips_missing_files(runtime, session, sessions, db_engine, agents, audio_dir,
                                                         tmp_path):
    root = tmp_path / "demo"
    (root / "calls").mkdir(parents=True)
    shutil.copy(FIXTURES / "chats.jsonl", root / "chats.jsonl")
    shutil.copytree(FIXTURES / "emails", root / "emails")
    shutil.copy(audio_dir / "stereo.wav", root / "calls" / "call-001.wav")
    (root / "calls" / "manifest.csv").write_text(
        "external_id,file,started_at,direction,queue,agent,customer_phone,customer_name,customer_email,channel_map,transfers\n"
        "call-001,call-001.wav,2026-09-14T09:31:00+00:00,inbound,billing,ada,07700 900123,Maria Lopez,,\"agent,customer\",\n")
    settings = make_settings(tmp_path / "data", demo_dir=root)
    demo_runtime = Runtime(settings=settings, engine=db_engine, sessions=sessions)
    lines: list[str] = []
    demo.load_demo(runtime=demo_runtime, log=lines.append)
    assert any("social: no file" in line for line in lines)
    assert any(line.startswith("demo: calls: 1 created") for line in lines)
    counts = session.exec(select(Interaction.channel, func.count()).group_by(Interaction.channel)).all()
    assert dict(counts) == {"call": 1, "chat": 2, "email": 2}
    messages = session.exec(select(func.count()).select_from(Message)).one()

    lines.clear()
    demo.load_demo(runtime=demo_runtime, log=lines.append)
    assert all(" 0 created, 0 updated" in line for line in lines if "created" in line)
    assert session.exec(select(func.count()).select_from(Message)).one() == messages
