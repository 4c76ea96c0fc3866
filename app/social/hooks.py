"""The social care side of the core hooks (app/core/hooks.py): clocks and flags follow every imported post."""

from app.core import hooks
from app.social import service


@hooks.SOCIAL_THREAD_WRITTEN.handler
def refresh_care_state(written: hooks.SocialThreadWritten) -> None:
    service.refresh_thread(session=written.session, interaction_id=written.interaction_id)
