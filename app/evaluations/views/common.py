"""What the evaluation pages share: the role dependencies, the posted form's fields, people's names."""

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, col, select

from app.auth.deps import web_require_roles
from app.auth.models import User
from app.core.security import Principal, Role

WebEvaluator = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR))]
WebAgent = Annotated[Principal, Depends(web_require_roles(Role.AGENT))]


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


def names(*, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of these users by id (unknown ids are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(wanted))).all()
    return {u.id: u.name for u in rows if u.id is not None}
