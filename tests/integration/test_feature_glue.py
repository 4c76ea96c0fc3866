"""The seams between features: what one feature writes, the next one picks up."""

from datetime import timedelta

from sqlmodel import select

from app.core.timeutil import utcnow
from app.ingest import service as ingest
from app.social.models import SocialThreadState


def test_an_imported_social_post_starts_its_care_clock(session):
    posted = utcnow() - timedelta(minutes=10)
    report = ingest.import_social(session=session, source="twitter", records=[(1, {
        "platform": "twitter", "post_id": "p-1", "parent_id": None, "author_handle": "@someone",
        "display_name": "Some One", "follower_count": 12, "is_public": True, "author_role": "customer",
        "agent": None, "text": "My broadband is down again", "created_at": posted.isoformat(), "url": None})])
    assert report.created == 1
    state = session.exec(select(SocialThreadState)).one()
    assert state.first_customer_post_at is not None
    assert abs((state.first_response_due_at - posted) - timedelta(hours=1)) < timedelta(seconds=1)
