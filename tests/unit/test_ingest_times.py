"""Times in imported files and uploads must carry their offset: a naive time would be read in nobody's zone."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.ingest.models import ChatLine, RecordingMetadata, SocialPost

CHAT = {"conversation_id": "c1", "message_id": "m1", "author_role": "customer", "text": "hello"}
POST = {"platform": "x", "post_id": "p1", "author_handle": "@ada", "text": "hello"}
CALL = {"external_id": "call-1"}


@pytest.mark.parametrize(("model", "fields", "name"), [
    (ChatLine, CHAT, "sent_at"), (SocialPost, POST, "created_at"), (RecordingMetadata, CALL, "started_at")])
def test_a_time_without_offset_is_refused_naming_its_field(model, fields, name):
    with pytest.raises(ValidationError) as refused:
        model.model_validate({**fields, name: "2026-09-14T09:31:00"})
    (error,) = refused.value.errors()
    assert error["loc"] == (name,) and "needs a UTC offset" in error["msg"]
    accepted = model.model_validate({**fields, name: "2026-09-14T17:31:00+08:00"})
    assert getattr(accepted, name).astimezone(UTC) == datetime(2026, 9, 14, 9, 31, tzinfo=UTC)
