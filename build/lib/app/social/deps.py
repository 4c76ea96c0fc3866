"""Who may use social care: staff roles, plus agents of the "Social care" team (the people answering posts)."""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.auth.deps import CurrentPrincipal, SessionDep, WebPrincipal
from app.auth.models import Team
from app.core.errors import Forbidden
from app.core.security import Principal, Role

SOCIAL_TEAM = "Social care"
VIEW_ROLES = (Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE)
WORK_ROLES = (Role.ADMIN, Role.EVALUATOR, Role.COACH)  # executives read; they do not act on threads


def in_social_team(*, session: Session, principal: Principal) -> bool:
    if not principal.has(Role.AGENT) or principal.team_id is None:
        return False
    team = session.get(Team, principal.team_id)
    return team is not None and team.name == SOCIAL_TEAM


def can_view(*, session: Session, principal: Principal) -> bool:
    return principal.has(*VIEW_ROLES) or in_social_team(session=session, principal=principal)


def can_work(*, session: Session, principal: Principal) -> bool:
    return principal.has(*WORK_ROLES) or in_social_team(session=session, principal=principal)


def _viewer(principal: Principal, session: Session) -> Principal:
    if not can_view(session=session, principal=principal):
        raise Forbidden("Social care is for the social care team and staff.")
    return principal


def _worker(principal: Principal, session: Session) -> Principal:
    if not can_work(session=session, principal=principal):
        raise Forbidden("Only the social care team, evaluators, coaches and admins act on threads.")
    return principal


def api_viewer(principal: CurrentPrincipal, session: SessionDep) -> Principal:
    return _viewer(principal, session)


def api_worker(principal: CurrentPrincipal, session: SessionDep) -> Principal:
    return _worker(principal, session)


def web_viewer(principal: WebPrincipal, session: SessionDep) -> Principal:
    return _viewer(principal, session)


def web_worker(principal: WebPrincipal, session: SessionDep) -> Principal:
    return _worker(principal, session)


SocialViewer = Annotated[Principal, Depends(api_viewer)]
SocialWorker = Annotated[Principal, Depends(api_worker)]
WebSocialViewer = Annotated[Principal, Depends(web_viewer)]
WebSocialWorker = Annotated[Principal, Depends(web_worker)]
