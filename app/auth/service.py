"""Accounts, sign-in, sessions, API tokens and the scope rules every feature asks."""

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from pwdlib import PasswordHash
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from app.auth import principal_cache, throttle
from app.auth.models import (
    ApiToken,
    Site,
    Team,
    User,
    UserCreate,
    UserUpdate,
    WebSession,
)
from app.core import audit
from app.core.db import write_transactions
from app.core.errors import Conflict, NotFound, TooManyRequests, Unauthorized
from app.core.security import Principal, Role, new_token, token_digest
from app.core.settings import Settings
from app.core.timeutil import as_utc, utcnow

NamedT = TypeVar("NamedT", Team, Site)

WRONG_CREDENTIALS = "Wrong username or password."


def principal_of(user: User, *, via: str = "session", csrf_token: str | None = None) -> Principal:
    assert user.id is not None
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name,
                     roles=user.role_set, team_id=user.team_id, site_id=user.site_id, via=via,
                     csrf_token=csrf_token)


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip().lower())).first()


def list_users(*, session: Session, role: Role | None = None, team_id: int | None = None) -> list[User]:
    query = select(User).order_by(col(User.username))
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    users = list(session.exec(query).all())
    return [u for u in users if role is None or role in u.role_set]


def user_names(*, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these users by id (display name, else username), in one query; None and unknown ids are
    left out."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.name for u in session.exec(select(User).where(col(User.id).in_(wanted))).all()
            if u.id is not None}


def create_user(*, session: Session, data: UserCreate, hasher: PasswordHash, actor: Principal | None) -> User:
    """Create a user with a hashed password. Raises Conflict when the username is taken."""
    if get_user_by_username(session=session, username=data.username):
        raise Conflict(f"username {data.username!r} is already taken")
    user = User(username=data.username, display_name=data.display_name, email=data.email,
                roles=" ".join(data.roles), team_id=data.team_id, site_id=data.site_id,
                password_hash=hasher.hash(data.password))
    session.add(user)
    session.flush()
    audit.record(session=session, actor=actor, action="user.create", record_type="user", record_id=user.id,
                 after={"username": user.username, "roles": user.roles, "team_id": user.team_id})
    session.commit()
    return user


def update_user(*, session: Session, user_id: int, data: UserUpdate, hasher: PasswordHash,
                actor: Principal | None) -> User:
    user = get_user(session=session, user_id=user_id)
    before = {"roles": user.roles, "team_id": user.team_id, "site_id": user.site_id, "is_active": user.is_active,
              "display_name": user.display_name, "email": user.email}
    changes = data.model_dump(exclude_unset=True)
    if "roles" in changes and changes["roles"] is not None:
        user.roles = " ".join(changes.pop("roles"))
    changes.pop("roles", None)
    password = changes.pop("password", None)
    for key, value in changes.items():
        setattr(user, key, value)
    if password:
        user.password_hash = hasher.hash(password)
        _end_sessions(session=session, user_id=user_id)
    if not user.is_active:
        _end_sessions(session=session, user_id=user_id)
    session.add(user)
    after = {"roles": user.roles, "team_id": user.team_id, "site_id": user.site_id, "is_active": user.is_active,
             "display_name": user.display_name, "email": user.email, "password_changed": bool(password)}
    audit.record(session=session, actor=actor, action="user.update", record_type="user", record_id=user_id,
                 before=before, after=after)
    session.commit()
    principal_cache.forget_user(user_id)  # roles, scope or activity may have changed
    return user


def _end_sessions(*, session: Session, user_id: int) -> None:
    for web_session in session.exec(select(WebSession).where(WebSession.user_id == user_id)).all():
        session.delete(web_session)


def authenticate(*, session: Session, username: str, password: str, hasher: PasswordHash,
                 settings: Settings, source_address: str | None = None) -> User:
    """Check a username and password.

    Raises Unauthorized with one message whatever was wrong, and TooManyRequests while the username (known or
    not, so nothing is revealed) or the source address is locked out after too many failures. Failures are
    counted atomically (see auth.throttle): simultaneous wrong passwords are each counted, none fails.
    Commits its own writes (the failure count and its audit event must survive the refusal).
    """
    name = username.strip().lower()[:320]
    limits = [throttle.Limit(throttle.user_key(name), settings.login_max_failures)]
    if source_address:
        limits.append(throttle.Limit(throttle.address_key(source_address), settings.login_max_failures_per_address))
    keys = [limit.key for limit in limits]
    now = utcnow()
    locked_until = throttle.locked_until(session=session, keys=keys, now=now)
    if locked_until is not None:
        session.rollback()
        wait = int((locked_until - now).total_seconds()) + 1
        raise TooManyRequests(f"Too many failed sign-ins. Try again in {wait} seconds.")
    user = get_user_by_username(session=session, username=name)
    stored_hash = user.password_hash if user is not None and user.is_active else None
    # End the read before hashing: a sign-in is a POST, so on SQLite its transaction holds the write lock from
    # its first statement (BEGIN IMMEDIATE), and argon2 takes 0.1–0.5 s that would block every other writer.
    session.rollback()
    valid, new_hash = False, None
    if stored_hash is not None:
        valid, new_hash = hasher.verify_and_update(password, stored_hash)
    else:
        hasher.hash(password)  # spend the same time as a real check
    if not valid or user is None:
        for limit in limits:
            throttle.record_failure(session=session, limit=limit, lockout_seconds=settings.login_lockout_seconds,
                                    now=now)
        audit.record(session=session, actor=None, action="auth.login_failed", record_type="user",
                     record_id=user.id if user else name)
        session.commit()
        raise Unauthorized(WRONG_CREDENTIALS)
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    throttle.clear(session=session, keys=keys)
    session.commit()
    return user


def start_web_session(*, session: Session, user: User, settings: Settings) -> tuple[str, WebSession]:
    """Returns the raw cookie token (never stored) and the session row."""
    assert user.id is not None
    raw = new_token("es")
    web_session = WebSession(user_id=user.id, token_hash=token_digest(raw), csrf_token=secrets.token_urlsafe(32),
                             expires_at=utcnow() + timedelta(seconds=settings.session_max_age_seconds))
    session.add(web_session)
    session.commit()
    return raw, web_session


def resolve_web_session(*, session: Session, raw_token: str) -> tuple[User, WebSession] | None:
    web_session = session.exec(select(WebSession).where(WebSession.token_hash == token_digest(raw_token))).first()
    if web_session is None or as_utc(web_session.expires_at) <= utcnow():
        return None
    user = session.get(User, web_session.user_id)
    if user is None or not user.is_active:
        return None
    return user, web_session


def end_web_session(*, session: Session, raw_token: str) -> None:
    web_session = session.exec(select(WebSession).where(WebSession.token_hash == token_digest(raw_token))).first()
    if web_session is not None:
        session.delete(web_session)
        session.commit()
        principal_cache.forget_user(web_session.user_id)


def end_all_web_sessions(*, session: Session, principal: Principal) -> None:
    _end_sessions(session=session, user_id=principal.user_id)
    audit.record(session=session, actor=principal, action="auth.logout_everywhere", record_type="user",
                 record_id=principal.user_id)
    session.commit()
    principal_cache.forget_user(principal.user_id)


def create_api_token(*, session: Session, principal: Principal, name: str) -> tuple[str, ApiToken]:
    raw = new_token("est")
    token = ApiToken(user_id=principal.user_id, name=name.strip()[:200] or "token",
                     token_hash=token_digest(raw), prefix=raw[:8])
    session.add(token)
    session.flush()
    audit.record(session=session, actor=principal, action="api_token.create", record_type="api_token",
                 record_id=token.id, after={"name": token.name, "user_id": token.user_id})
    session.commit()
    return raw, token


def list_api_tokens(*, session: Session, principal: Principal) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).where(ApiToken.user_id == principal.user_id)
                             .order_by(col(ApiToken.id))).all())


def revoke_api_token(*, session: Session, principal: Principal, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user_id and not principal.has(Role.ADMIN)):
        raise NotFound(f"API token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        audit.record(session=session, actor=principal, action="api_token.revoke", record_type="api_token",
                     record_id=token_id)
        session.commit()
        principal_cache.forget_user(token.user_id)
    return token


def resolve_api_token(*, session: Session, raw_token: str) -> User | None:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_digest(raw_token))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - as_utc(token.last_used_at) > timedelta(minutes=1):
        _stamp_token_use(session=session, token_id=token.id, now=now)
    return user


def _stamp_token_use(*, session: Session, token_id: int | None, now: datetime) -> None:
    """At most one write a minute per token, not one per request; in a write transaction of its own (the
    lookup was a read), and best effort: a busy database never fails the request for a usage stamp."""
    session.commit()
    try:
        with write_transactions():
            session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now))
            session.commit()
    except OperationalError:
        session.rollback()


def create_team(*, session: Session, name: str, actor: Principal | None) -> Team:
    return _create_named(session=session, model=Team, name=name, actor=actor)


def create_site(*, session: Session, name: str, actor: Principal | None) -> Site:
    return _create_named(session=session, model=Site, name=name, actor=actor)


def _create_named(*, session: Session, model: type[NamedT], name: str, actor: Principal | None) -> NamedT:
    name = name.strip()
    if not name:
        raise Conflict("name must not be empty")
    if session.exec(select(model).where(model.name == name)).first():
        raise Conflict(f"{model.__tablename__} {name!r} already exists")
    row = model(name=name)
    session.add(row)
    session.flush()
    audit.record(session=session, actor=actor, action=f"{model.__tablename__}.create",
                 record_type=str(model.__tablename__), record_id=row.id, after={"name": name})
    session.commit()
    return row


def get_or_create_team(*, session: Session, name: str) -> Team:
    return session.exec(select(Team).where(Team.name == name)).first() or create_team(
        session=session, name=name, actor=None)


def get_or_create_site(*, session: Session, name: str) -> Site:
    return session.exec(select(Site).where(Site.name == name)).first() or create_site(
        session=session, name=name, actor=None)


def list_teams(*, session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.name))).all())


def list_sites(*, session: Session) -> list[Site]:
    return list(session.exec(select(Site).order_by(col(Site.name))).all())


def visible_agent_ids(*, session: Session, principal: Principal) -> set[int] | None:
    """The agents whose records this principal may see: None means all of them."""
    if principal.sees_all_agents:
        return None
    visible = {principal.user_id}
    if principal.has(Role.COACH) and principal.team_id is not None:
        team = session.exec(select(User.id).where(User.team_id == principal.team_id)).all()
        visible.update(i for i in team if i is not None)
    return visible


def can_view_agent(*, session: Session, principal: Principal, agent_id: int | None) -> bool:
    visible = visible_agent_ids(session=session, principal=principal)
    return visible is None or (agent_id is not None and agent_id in visible)
