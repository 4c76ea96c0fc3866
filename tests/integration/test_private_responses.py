"""Every signed-in response (HTML, JSON, CSV, PDF) says `Cache-Control: private, no-store`; so does the response
that signs in. Public pages and static files are left cacheable."""

import pytest

from app.auth.deps import SESSION_COOKIE
from app.core.web import SESSION_COOKIE_NAME
from tests.conftest import TEST_PASSWORD, sign_in

pytestmark = pytest.mark.integration
PRIVATE = "private, no-store"


def test_signed_in_html_json_csv_and_pdf_are_not_cached(client, make_user):
    assert SESSION_COOKIE == SESSION_COOKIE_NAME  # the middleware recognises the real cookie
    agent = make_user("agent", username="cache_agent")
    sign_in(client, "cache_agent")
    html = {"accept": "text/html"}
    responses = {
        "html": client.get("/search", params={"q": "router"}, headers=html),
        "json": client.get("/api/me"),
        "csv": client.get("/search", params={"q": "router", "format": "csv"}, headers=html),
        "pdf": client.get(f"/agents/{agent.id}/summary.pdf", headers=html),
        "error": client.get("/api/interactions/999999"),
    }
    kinds = {"html": "text/html", "json": "application/json", "csv": "text/csv", "pdf": "application/pdf"}
    for name, response in responses.items():
        assert response.headers.get("cache-control") == PRIVATE, (name, response.status_code, response.headers)
        if name in kinds:
            assert response.status_code == 200 and response.headers["content-type"].startswith(kinds[name]), name


def test_sign_in_response_is_private_and_public_pages_and_static_files_are_not_marked(client, make_user):
    make_user("agent", username="cache_agent2")
    client.cookies.clear()
    assert client.get("/healthz").headers.get("cache-control") != PRIVATE
    signed = client.post("/api/auth/login", json={"username": "cache_agent2", "password": TEST_PASSWORD})
    assert signed.status_code == 200 and signed.headers.get("cache-control") == PRIVATE
    static = client.get("/static/earshot.css")  # signed in, but the same file for everyone
    assert static.status_code == 200 and static.headers.get("cache-control") != PRIVATE
