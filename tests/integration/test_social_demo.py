"""The demo loader: records demo/social.json when the importer has not, computes state, runs the sweep."""

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.core.jobs import Runtime
from app.interactions.models import Interaction, Message
from app.social import demo, reports, service
from tests.conftest import make_settings

START = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def _post(pid, parent, handle, role, hours, text, followers=None, public=True):
    return {"platform": "twitter", "post_id": pid, "parent_id": parent, "author_handle": handle,
            "display_name": handle.strip("@"), "follower_count": followers, "is_public": public,
            "author_role": role, "agent": "sam" if role == "agent" else None, "text": text,
            "created_at": (START + timedelta(hours=hours)).isoformat(), "url": f"https://twitter.example/{pid}"}


POSTS = [
    _post("t1", None, "@techguru", "customer", 0, "Broadband down for 6 hours. Unacceptable.", 250_000),
    _post("t2", "t1", "@brand", "agent", 0.3, "Sorry! Engineers are on it."),
    _post("t3", "t2", "@brand", "agent", 3, "Fixed now, thanks for your patience."),
    _post("l1", None, "@lowfollower", "customer", 0.1, "My broadband is down too", 120),
    _post("l2", "l1", "@brand", "agent", 0.6, "Sorry! Engineers are on it."),
    _post("q1", None, "@quietcustomer", "customer", 10, "Your company stole my money", 40),
    _post("q2", "q1", "@brand", "agent", 10.5, "Sorry to hear that, can you DM us your account number?"),
    _post("q3", "q2", "@brand", "agent", 34.5, "Following up: could you DM us the details?"),
    _post("q4", "q3", "@brand", "agent", 58.5, "Last try: we'd like to look into this, please DM us."),
    _post("q5", "q4", "@brand", "agent", 78.5, "Really the last one: please DM us."),
    _post("p1", None, "@private", "customer", 20, "Wrong bill again", 900),
    _post("p2", "p1", "@brand", "agent", 20.2, "Let's sort this in DM"),
    _post("p3", "p2", "@brand", "agent", 21, "Refund issued", public=False),
]


def test_demo_loader_records_refreshes_and_sweeps(tmp_path, db_engine, sessions, session, make_user):
    make_user("agent", username="sam", team="Social care")
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    (demo_dir / "social.json").write_text(json.dumps({"posts": POSTS}))
    runtime = Runtime(settings=make_settings(tmp_path / "data", demo_dir=demo_dir), engine=db_engine, sessions=sessions)
    lines: list[str] = []
    demo.load_demo(runtime=runtime, log=lines.append)
    demo.load_demo(runtime=runtime, log=lines.append)  # idempotent
    threads = session.exec(select(Interaction).where(Interaction.source == "demo")).all()
    assert sorted(t.external_id for t in threads) == ["l1", "p1", "q1", "t1"]
    assert len(session.exec(select(Message)).all()) == len(POSTS)
    by_root = {t.external_id: t.id for t in threads}
    quiet = service.get_state(session=session, interaction_id=by_root["q1"])
    assert quiet.non_genuine and len(quiet.non_genuine_evidence) == 4  # the first reply and 3 follow-ups
    guru = service.get_state(session=session, interaction_id=by_root["t1"])
    assert guru.follower_count == 250_000 and guru.first_response_status == "met" and guru.follow_up_status == "met"
    low = service.get_state(session=session, interaction_id=by_root["l1"])
    assert low.first_response_status == "met" and low.follow_up_status == "breached"
    assert [s.interaction_id for s, _ in reports.resolved_privately(session=session)] == [by_root["p1"]]
    assert "4 thread(s) recorded" in lines[0] and "1 marked non-genuine" in lines[1]
    assert "0 marked non-genuine" in lines[2]  # the second run changes nothing
    agent_message = session.exec(select(Message).where(Message.external_id == "t2")).one()
    assert agent_message.agent_id is not None


def test_cli_sweep_and_refresh_in_a_fresh_process(tmp_path):
    """`earshot social sweep` imports only what it needs: its tables must still resolve their foreign keys."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from sqlmodel import Session

    from app.core.db import make_engine
    from app.core.migrate import upgrade
    from app.social.threads import Post, record_thread

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        record_thread(session=session, platform="twitter", source="cli", posts=[
            Post(post_id="c1", author_role="customer", text="hello?", sent_at=START)])
        session.commit()
    engine.dispose()
    env = {**os.environ, "EARSHOT_DATABASE_URL": url, "EARSHOT_DATA_DIR": str(tmp_path / "data")}
    root = Path(__file__).resolve().parents[2]

    def social_cli(start: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", f"{start}from app.social.cli import commands; commands()",
                               "sweep"], cwd=root, env=env, capture_output=True, text=True, timeout=60)

    # the social CLI module alone: its alert's webhook event has no handler, so the sweep fails (nothing kept)
    # instead of dropping the event
    unhooked = social_cli("")
    assert unhooked.returncode != 0 and "UnhandledHook" in unhooked.stderr
    # with the hooks' handlers, as `earshot` loads them before any command
    done = social_cli("from app.core.hooks import load_hooks; load_hooks(); ")
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"threads_refreshed": 1' in done.stdout
