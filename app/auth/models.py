"""Users, teams, sites (shops), API tokens and web sessions."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column
from app.core.security import Role, parse_roles


class Team(SQLModel, table=True):
    __tablename__ = "team"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)


class Site(SQLModel, table=True):
    """A site or retail shop agents work from."""

    __tablename__ = "site"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)


class UserBase(SQLModel):
    username: str = Field(max_length=100, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    roles: str = Field(default="agent", max_length=200, description="Space-separated roles.")
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    is_active: bool = True


class User(UserBase, table=True):
    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=500)
    created_at: datetime = now_column()

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split())

    @property
    def name(self) -> str:
        return self.display_name or self.username


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class UserCreate(StrictModel):
    username: str
    password: str
    display_name: str = ""
    email: str | None = None
    roles: list[str]
    team_id: int | None = None
    site_id: int | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip().lower()
        if not value or len(value) > 100 or not all(c.isalnum() or c in "._-@" for c in value):
            raise ValueError("username: 1-100 letters, digits or . _ - @")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        if len(value) < 10:
            raise ValueError("password must be at least 10 characters")
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        return [str(r) for r in parse_roles(value)]


class UserUpdate(StrictModel):
    display_name: str | None = None
    email: str | None = None
    roles: list[str] | None = None
    team_id: int | None = None
    site_id: int | None = None
    is_active: bool | None = None
    password: str | None = None

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [str(r) for r in parse_roles(value)]


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    email: str | None
    roles: list[str]
    team_id: int | None
    site_id: int | None
    is_active: bool

    @classmethod
    def of(cls, user: User) -> "UserPublic":
        assert user.id is not None
        return cls(id=user.id, username=user.username, display_name=user.display_name, email=user.email,
                   roles=user.roles.split(), team_id=user.team_id, site_id=user.site_id, is_active=user.is_active)


class NamedCreate(StrictModel):
    name: str


class ApiToken(SQLModel, table=True):
    """A bearer token for integrations; only its sha256 is stored."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=20)
    created_at: datetime = now_column()
    last_used_at: datetime | None = tz_column()
    revoked_at: datetime | None = tz_column()


class ApiTokenCreate(StrictModel):
    name: str


class ApiTokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenPublic):
    token: str


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    csrf_token: str = Field(max_length=100)
    created_at: datetime = now_column()
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class FormSubmission(SQLModel, table=True):
    """A page's form that was sent and acted on (app.auth.forms): its token, taken by the first sending that
    changed something; a second sending of the same rendering is refused."""

    __tablename__ = "form_submission"
    token: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id")
    sent_at: datetime = now_column(index=True)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins per username (known or not, so the lock-out reveals nothing)."""

    __tablename__ = "login_throttle"
    username: str = Field(primary_key=True, max_length=320)
    failures: int = 0
    locked_until: datetime | None = tz_column()


class LoginRequest(StrictModel):
    username: str
    password: str
