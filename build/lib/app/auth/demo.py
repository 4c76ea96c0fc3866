"""Demo accounts, one per role (plus a few agents), with known passwords printed by `make run`."""

from collections.abc import Callable

from app.auth import service
from app.auth.models import UserCreate
from app.core.db import session_scope
from app.core.jobs import Runtime
from app.core.security import make_password_hasher

DEMO_ORDER = 0
DEMO_PASSWORD = "earshot-demo"  # noqa: S105 - the demo data set is public by design

DEMO_USERS = [
    # username, display name, roles, team, site
    ("admin", "Alex Admin", ["admin"], None, None),
    ("eva", "Eva Evaluator", ["evaluator"], None, None),
    ("evan", "Evan Evaluator", ["evaluator"], None, None),
    ("colin", "Colin Coach", ["coach"], "Billing", None),
    ("ada", "Ada Agent", ["agent"], "Billing", "Downtown shop"),
    ("ben", "Ben Agent", ["agent"], "Billing", "Riverside shop"),
    ("cara", "Cara Agent", ["agent"], "Technical", "Downtown shop"),
    ("dan", "Dan Agent", ["agent"], "Technical", "Riverside shop"),
    ("sam", "Sam Social", ["agent"], "Social care", None),
    ("exec", "Erin Executive", ["executive"], None, None),
]


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    hasher = make_password_hasher(runtime.settings)
    created = 0
    with session_scope(runtime.sessions) as session:
        for username, name, roles, team, site in DEMO_USERS:
            if service.get_user_by_username(session=session, username=username):
                continue
            team_id = service.get_or_create_team(session=session, name=team).id if team else None
            site_id = service.get_or_create_site(session=session, name=site).id if site else None
            service.create_user(session=session, hasher=hasher, actor=None, data=UserCreate(
                username=username, password=DEMO_PASSWORD, display_name=name, roles=roles,
                team_id=team_id, site_id=site_id))
            created += 1
    log(f"demo: {created} user(s) created; every demo account's password is {DEMO_PASSWORD!r}")
