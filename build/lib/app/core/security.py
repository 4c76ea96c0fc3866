"""Password hashing, opaque tokens and the Principal (who is calling, with which roles and scope)."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.settings import Settings


class Role(StrEnum):
    ADMIN = "admin"
    EVALUATOR = "evaluator"
    COACH = "coach"
    AGENT = "agent"
    EXECUTIVE = "executive"


ALL_ROLES: tuple[Role, ...] = tuple(Role)
STAFF_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE)


def make_password_hasher(settings: Settings) -> PasswordHash:
    """argon2id with the configured cost (tests lower it; ~0.2 s per hash at the default here)."""
    return PasswordHash(
        (Argon2Hasher(time_cost=settings.password_hash_time_cost, memory_cost=settings.password_hash_memory_kib),)
    )


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens are stored as their sha256: they are random and long, so a slow hash adds nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def parse_roles(value: str | list[str] | tuple[str, ...]) -> list[Role]:
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    roles = []
    for item in items:
        try:
            roles.append(Role(item.strip().lower()))
        except ValueError as exc:
            raise ValueError(f"unknown role {item!r}; roles are {', '.join(ALL_ROLES)}") from exc
    if not roles:
        raise ValueError("a user needs at least one role")
    return sorted(set(roles))


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the authorization rules see them."""

    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    team_id: int | None = None
    site_id: int | None = None
    via: str = "session"  # "session" (web, CSRF-checked) or "token" (API bearer token)
    csrf_token: str | None = None

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def sees_all_agents(self) -> bool:
        """Admins, evaluators and executives see every agent's records; coaches their team; agents themselves."""
        return self.has(Role.ADMIN, Role.EVALUATOR, Role.EXECUTIVE)
