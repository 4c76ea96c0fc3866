"""Sign-in, sessions, CSRF, API tokens, lock-out and the error shape, on SQLite and PostgreSQL."""

from sqlmodel import select

from app.auth.models import ApiToken, User
from app.core.models import AuditEvent
from tests.conftest import TEST_PASSWORD, sign_in


def _error(response):  # the one error shape
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def test_wrong_password_and_unknown_user_get_the_same_401(client, make_user):
    make_user("agent", username="ada")
    wrong_password = client.post("/api/auth/login", json={"username": "ada", "password": "nope-nope-nope"})
    unknown_user = client.post("/api/auth/login", json={"username": "nobody", "password": "nope-nope-nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert _error(wrong_password)["message"] == _error(unknown_user)["message"]
    assert "session" not in "".join(wrong_password.cookies.keys())


def test_lockout_after_repeated_failures_even_with_the_right_password(client, make_user, settings):
    make_user("agent", username="ada")
    for _ in range(settings.login_max_failures):
        assert client.post("/api/auth/login", json={"username": "ada", "password": "wrong-wrong"}).status_code == 401
    locked = client.post("/api/auth/login", json={"username": "ada", "password": TEST_PASSWORD})
    assert locked.status_code == 429
    assert _error(locked)["code"] == "too_many_requests"


def test_session_cookie_flags_and_me(client, make_user):
    make_user("evaluator", username="eva")
    response = client.post("/api/auth/login", json={"username": "eva", "password": TEST_PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    me = client.get("/api/me")
    assert me.status_code == 200 and me.json()["roles"] == ["evaluator"]


def test_state_change_without_csrf_token_is_403_and_writes_nothing(client, make_user, session):
    user = make_user("agent", username="ada")
    sign_in(client, "ada")
    del client.headers["x-csrf-token"]
    response = client.post("/api/tokens", json={"name": "ci"})
    assert response.status_code == 403 and _error(response)["code"] == "csrf_failed"
    assert session.exec(select(ApiToken).where(ApiToken.user_id == user.id)).first() is None


def test_malformed_json_names_the_field(client, make_user):
    make_user("admin", username="root")
    sign_in(client, "root")
    response = client.post("/api/users", json={"username": "x", "password": "long-enough-pw", "roles": "agent"})
    assert response.status_code == 422
    assert any(d["loc"] == "body.roles" for d in _error(response)["details"])
    broken = client.post("/api/users", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422


def test_body_over_the_limit_is_413_and_nothing_is_written(client, make_user, session, settings):
    make_user("admin", username="root")
    sign_in(client, "root")
    before = len(session.exec(select(User)).all())
    huge_name = "x" * (settings.max_request_bytes + 10)
    response = client.post("/api/users", json={"username": "big", "password": "long-enough-pw",
                                               "roles": ["agent"], "display_name": huge_name})
    assert response.status_code == 413 and _error(response)["code"] == "payload_too_large"
    assert len(session.exec(select(User)).all()) == before


def test_api_token_works_without_csrf_and_stops_when_revoked(client, make_user, session):
    make_user("admin", username="root")
    sign_in(client, "root")
    created = client.post("/api/tokens", json={"name": "crm"})
    assert created.status_code == 201
    raw = created.json()["token"]
    stored = session.exec(select(ApiToken)).all()
    assert all(t.token_hash != raw and raw not in t.token_hash for t in stored)  # hashed at rest
    client.cookies.clear()
    client.headers.pop("x-csrf-token")
    bearer = {"authorization": f"Bearer {raw}"}
    assert client.get("/api/me", headers=bearer).status_code == 200
    assert client.post("/api/teams", json={"name": "Night shift"}, headers=bearer).status_code == 201
    assert client.delete(f"/api/tokens/{created.json()['id']}", headers=bearer).status_code == 200
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_admin_creates_user_with_argon2_hash_and_audit_event(client, make_user, session):
    make_user("admin", username="root")
    sign_in(client, "root")
    response = client.post("/api/users", json={"username": "Newbie", "password": "long-enough-pw",
                                               "roles": ["agent", "coach"]})
    assert response.status_code == 201 and response.json()["username"] == "newbie"
    assert "password" not in response.text
    user = session.exec(select(User).where(User.username == "newbie")).one()
    assert user.password_hash.startswith("$argon2id$")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "user.create",
                                                  AuditEvent.record_id == str(user.id))).one()
    assert event.actor_name == "Root" and event.after["roles"] == "agent coach"
    duplicate = client.post("/api/users", json={"username": "newbie", "password": "long-enough-pw",
                                                "roles": ["agent"]})
    assert duplicate.status_code == 409


def test_agent_cannot_manage_users(client, make_user):
    make_user("agent", username="ada")
    sign_in(client, "ada")
    response = client.post("/api/users", json={"username": "x1", "password": "long-enough-pw", "roles": ["admin"]})
    assert response.status_code == 403


def test_logout_ends_the_session(client, make_user):
    make_user("agent", username="ada")
    sign_in(client, "ada")
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/me").status_code == 401


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "queue": "ok"}


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_logout_everywhere_ends_other_browsers_and_login_rotates_the_session(app, make_user):
    from fastapi.testclient import TestClient

    make_user("agent", username="ada")
    with TestClient(app) as laptop, TestClient(app) as phone:
        sign_in(laptop, "ada")
        first_cookie = laptop.cookies.get("earshot_session")
        sign_in(laptop, "ada")
        assert laptop.cookies.get("earshot_session") != first_cookie  # a new session at every sign-in
        sign_in(phone, "ada")
        assert laptop.post("/api/auth/logout-all").status_code == 204
        assert phone.get("/api/me").status_code == 401


def test_user_names_by_id_reads_the_display_name_else_the_username(session, make_user):
    """The one look-up every page uses to show who did what: one name per known id, nothing for None or an id
    that names nobody."""
    from app.auth.service import user_names

    ada = make_user("agent", username="ada", display_name="Ada Lovelace")
    bob = make_user("coach", username="bob")
    bob.display_name = ""
    session.add(bob)
    session.commit()
    assert user_names(session=session, ids=[ada.id, bob.id, None, 99_999, ada.id]) == {
        ada.id: "Ada Lovelace", bob.id: "bob"}
    assert user_names(session=session, ids=[None]) == {}
