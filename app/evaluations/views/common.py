"""What the evaluation pages share: the role dependencies, the posted form's fields, people's names."""

from typing import Annotated

from fastapi import Depends, Request

from app.auth.deps import web_require_roles
from app.core.security import Principal, Role

WebEvaluator = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR))]
WebAgent = Annotated[Principal, Depends(web_require_roles(Role.AGENT))]


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


