"""Authentication from the principal cache: repeated requests with the same session or token do not ask the
database who is calling, and sign-out, sign-out everywhere, token revocation and role changes take effect on
the very next request of this process (other processes: within principal_cache_seconds)."""


from fastapi.testclient import TestClient

from tests.conftest import sign_in


def test_a_known_session_is_recognised_without_asking_the_database(client, make_user, statements):
    make_user("admin", username="root")
    sign_in(client, "root")
    assert client.get("/api/tokens").status_code == 200  # the first request looks the session up
    statements.clear()
    assert client.get("/api/tokens").status_code == 200
    assert not [s for s in statements if "web_session" in s or "FROM user" in s.replace('"', "")]


def test_sign_out_everywhere_and_role_changes_take_effect_at_once(app, make_user):
    admin_user = make_user("admin", username="root")
    make_user("agent", username="ada")
    with TestClient(app) as laptop, TestClient(app) as phone, TestClient(app) as admin:
        sign_in(laptop, "ada")
        sign_in(phone, "ada")
        sign_in(admin, admin_user.username)
        assert phone.get("/api/me").status_code == 200  # now cached
        assert laptop.post("/api/auth/logout-all").status_code == 204
        assert phone.get("/api/me").status_code == 401
        sign_in(phone, "ada")
        assert phone.get("/api/users").status_code == 403  # an agent; cached as such
        ada_id = phone.get("/api/me").json()["id"]
        assert admin.patch(f"/api/users/{ada_id}", json={"roles": ["evaluator"]}).status_code == 200
        assert phone.get("/api/users").status_code == 200
        assert admin.patch(f"/api/users/{ada_id}", json={"is_active": False}).status_code == 200
        assert phone.get("/api/me").status_code == 401


def test_a_revoked_api_token_is_refused_on_the_next_request(client, make_user):
    make_user("agent", username="ada")
    sign_in(client, "ada")
    created = client.post("/api/tokens", json={"name": "script"}).json()
    bearer = {"authorization": f"Bearer {created['token']}"}
    with TestClient(client.app) as script:
        assert script.get("/api/me", headers=bearer).status_code == 200
        assert script.get("/api/me", headers=bearer).status_code == 200  # from the cache
        assert client.delete(f"/api/tokens/{created['id']}").status_code == 200
        assert script.get("/api/me", headers=bearer).status_code == 401
