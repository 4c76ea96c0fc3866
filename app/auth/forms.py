"""A page's form acts once, however often it is sent.

Every state-changing form of a page carries a token of its rendering (`core.web.form_fields`). A double
click, a second click while the first sending is still on its way, or Back and send again would otherwise do
the work twice: a reply logged twice, a decision audited twice, two coaching sessions. The one rule, owned
here and applied to every signed-in form request by the principal dependency (app.auth.deps):

- the sending takes the token in the request's own transaction, before the route runs (`claim`): a second
  sending of the same rendering waits for the first to finish (PostgreSQL: on the token's key; SQLite: on the
  write lock) and, if the first changed something, is refused with `FormAlreadySent` — nothing of it runs;
- a sending that changed nothing (refused as invalid, a read-only form such as a print sheet) gives its token
  back before it commits (`give_back_if_unused`), so the same page can be corrected and sent again;
- requests without the field (the API, scripts) are not affected.

"Changed something" is what the request's session wrote through the ORM (objects flushed, ORM insert/update/
delete statements); every form of the app writes that way.
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col

from app.auth.models import FormSubmission
from app.core.errors import Conflict, InvalidInput
from app.core.timeutil import utcnow

CLAIM_KEY = "earshot.form_claim"  # session.info: the token this request took
WROTE_KEY = "earshot.form_wrote"  # session.info: the request wrote something besides its token
KEPT_DAYS = 30  # a page older than this may be sent again (retention purges older tokens)


class FormAlreadySent(Conflict):
    code = "already_sent"


def claim(session: Session, token: str, user_id: int) -> None:
    """Take `token` for this request, or raise FormAlreadySent when a sending of the same form acted already."""
    if not 16 <= len(token) <= 64:
        raise InvalidInput("The form's page token is not valid; reload the page and send the form again.")
    session.add(FormSubmission(token=token, user_id=user_id))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise FormAlreadySent("This form was already sent, and acted on once; sending it again did nothing. "
                              "Go back and reload the page to see the result, or to send something new.") from None
    session.info[CLAIM_KEY] = token
    session.info[WROTE_KEY] = False


def holds_claim(session: Session) -> bool:
    return CLAIM_KEY in session.info


def give_back_if_unused(session: Session) -> None:
    """Before the request commits: a sending that wrote nothing besides its token gives the token back. (Call
    it in a worker thread: when the route committed the token already, deleting it begins a write transaction,
    which may wait for SQLite's write lock.)"""
    token = session.info.pop(CLAIM_KEY, None)
    wrote = session.info.pop(WROTE_KEY, False)
    if token is not None and not wrote:
        session.execute(delete(FormSubmission).where(col(FormSubmission.token) == token))


def purge(session: Session, *, days: int = KEPT_DAYS) -> int:
    """Forget tokens older than `days` (the retention sweep). Returns how many."""
    result = session.execute(delete(FormSubmission).where(col(FormSubmission.sent_at) < utcnow() - timedelta(days=days)))
    return int(getattr(result, "rowcount", 0) or 0)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    """The route rolled its transaction back (e.g. on a refused input): the token went with it."""
    session.info.pop(CLAIM_KEY, None)
    session.info.pop(WROTE_KEY, None)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, context: Any) -> None:
    if CLAIM_KEY in session.info and not session.info.get(WROTE_KEY):
        changed = [*session.new, *session.deleted, *(item for item in session.dirty if session.is_modified(item))]
        if any(not isinstance(item, FormSubmission) for item in changed):
            session.info[WROTE_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    session = state.session
    if CLAIM_KEY in session.info and (state.is_insert or state.is_update or state.is_delete):
        session.info[WROTE_KEY] = True
