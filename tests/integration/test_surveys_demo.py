"""The surveys demo imports a surveys.csv; the reviews demo after it readies the latest month's cases and creates
one meeting (both idempotent)."""

import shutil

from sqlmodel import select

from app.reviews import demo as reviews_demo
from app.reviews.models import ReviewCase, ReviewMeeting, ReviewMeetingCase
from app.surveys import demo
from app.surveys.models import SurveyResponse
from tests.conftest import make_settings
from tests.fixtures.surveys.support import FIXTURES


def test_demo_loader_is_idempotent(runtime, session, make_user, tmp_path):
    make_user("executive", username="exec")
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    shutil.copy(FIXTURES / "basic.csv", demo_dir / "surveys.csv")
    runtime.settings = make_settings(tmp_path / "data", demo_dir=demo_dir)
    lines: list[str] = []
    for _ in range(2):
        demo.load_demo(runtime=runtime, log=lines.append)
        reviews_demo.load_demo(runtime=runtime, log=lines.append)
    assert demo.DEMO_ORDER < reviews_demo.DEMO_ORDER  # the whole demo runs them in this order
    assert len(session.exec(select(SurveyResponse)).all()) == 6
    cases = session.exec(select(ReviewCase)).all()
    assert len(cases) == 2 and {c.status for c in cases} == {"ready_for_meeting"}
    meetings = session.exec(select(ReviewMeeting)).all()
    assert len(meetings) == 1 and meetings[0].period == "2026-11"
    assert len(session.exec(select(ReviewMeetingCase)).all()) == 2
    assert any("unchanged 6" in line for line in lines)


def test_demo_loader_without_file(runtime, tmp_path):
    runtime.settings = make_settings(tmp_path / "data", demo_dir=tmp_path / "nothing")
    lines: list[str] = []
    demo.load_demo(runtime=runtime, log=lines.append)
    assert "skipped" in lines[0]
