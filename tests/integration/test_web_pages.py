"""The sign-in page, the home page per role and the admin pages, through HTML forms."""

import csv
import io
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import TEST_PASSWORD


def _form_csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def web_sign_in(client, username, password=TEST_PASSWORD, next_url="/"):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": _form_csrf(page.text), "next": next_url},
                       follow_redirects=False)


@pytest.mark.parametrize("role", ["admin", "evaluator", "coach", "agent", "executive"])
def test_each_role_signs_in_and_sees_its_home(client, make_user, role):
    make_user(role, username=f"the{role}")
    response = web_sign_in(client, f"the{role}")
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert f'data-role="{role}"' in home.text
    assert "Sign out" in home.text


def test_pages_redirect_to_sign_in_and_back(client, make_user):
    make_user("admin", username="root")
    first = client.get("/admin/users", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/admin/users"
    response = web_sign_in(client, "root", next_url="/admin/users")
    assert response.headers["location"] == "/admin/users"


def test_sign_in_never_redirects_off_site(client, make_user):
    make_user("agent", username="ada")
    response = web_sign_in(client, "ada", next_url="https://evil.example/")
    assert response.headers["location"] == "/"


def test_wrong_password_shows_the_form_again(client, make_user):
    make_user("agent", username="ada")
    response = web_sign_in(client, "ada", password="wrong-password")
    assert response.status_code == 401 and "Wrong username or password" in response.text


def test_sign_in_form_without_its_csrf_token_is_refused(client, make_user):
    make_user("agent", username="ada")
    client.get("/login")
    response = client.post("/login", data={"username": "ada", "password": TEST_PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403


def test_admin_creates_a_user_from_the_users_page(client, make_user):
    make_user("admin", username="root")
    web_sign_in(client, "root")
    page = client.get("/admin/users")
    response = client.post("/admin/users", data={
        "username": "newagent", "password": "long-enough-pw", "roles": ["agent"],
        "csrf_token": _form_csrf(page.text)}, follow_redirects=True)
    assert response.status_code == 200 and "newagent" in response.text
    audit = client.get("/admin/audit?action=user.create")
    assert "user.create" in audit.text and "newagent" in audit.text


@pytest.mark.parametrize(("fields", "reason"), [
    ({"username": "eva", "roles": ["coach"]}, "username 'eva' is already taken"),
    ({"username": "new.agent", "roles": []}, "roles a user needs at least one role"),
    ({"username": "我的账单😀", "roles": ["coach"]}, "username 1-100 letters, digits or . _ - @"),
])
def test_a_refused_new_user_keeps_what_was_typed_but_the_password(client, make_user, fields, reason):
    make_user("admin", username="root")
    make_user("evaluator", username="eva")
    web_sign_in(client, "root")
    page = client.get("/admin/users")
    response = client.post("/admin/users", headers={"accept": "text/html"}, data={
        **fields, "display_name": "Mei <Wong>", "email": "mei@example.com", "password": "long-enough-pw",
        "csrf_token": _form_csrf(page.text)})
    assert response.status_code == 422
    assert f'role="alert">{reason}' in response.text.replace("&#39;", "'"), response.text[:3000]
    assert "Value error" not in response.text
    assert 'value="Mei &lt;Wong&gt;"' in response.text and 'value="mei@example.com"' in response.text
    assert 'value="long-enough-pw"' not in response.text  # a password is never sent back
    new_user_form = response.text.split('action="/admin/users" class="stack"')[1]
    assert re.findall(r'name="roles" value="(\w+)" checked', new_user_form) == fields["roles"]


class _RowForm(HTMLParser):
    """What a browser submits for one form of a page: the fields inside it or naming it with form="<id>"."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.select = form_id, False, None
        self.action, self.fields = None, []

    def _mine(self, attrs: dict) -> bool:
        return self.inside or attrs.get("form") == self.form_id

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside, self.action = True, attrs["action"]
        elif tag == "input" and self._mine(attrs) and (attrs.get("type") != "checkbox" or "checked" in attrs):
            self.fields.append((attrs["name"], attrs.get("value", "on")))
        elif tag == "select" and self._mine(attrs):
            self.select = attrs["name"]
        elif tag == "option" and self.select and "selected" in attrs:
            self.fields.append((self.select, attrs["value"]))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def test_a_users_row_is_its_own_edit_form(client, make_user):
    """Each row of the users table shows the user's roles, team and active flag in fields of that row's form;
    saving the row as a browser sends it changes that user only."""
    make_user("admin", username="root")
    ada = make_user("agent", username="ada", team="Blue")
    make_user("agent", username="bob", team="Blue")
    web_sign_in(client, "root")
    row = _RowForm(f"user-{ada.id}")
    row.feed(client.get("/admin/users").text)
    team_id = dict(row.fields)["team_id"]
    assert row.action == f"/admin/users/{ada.id}" and team_id != ""
    assert sorted(v for k, v in row.fields if k == "roles") == ["agent"] and ("is_active", "on") in row.fields
    fields = [*row.fields, ("roles", "coach")]
    assert client.post(row.action, data={k: [v for n, v in fields if n == k] for k, _ in fields},
                       follow_redirects=False).status_code == 303
    rows = {r[1]: r for r in csv.reader(io.StringIO(client.get("/admin/users?format=csv").text))}
    assert rows["ada"][4:8] == ["agent coach", "Blue", "", "yes"] and rows["bob"][4:8] == ["agent", "Blue", "", "yes"]


def test_form_post_without_csrf_is_refused(client, make_user):
    make_user("admin", username="root")
    web_sign_in(client, "root")
    response = client.post("/admin/users", data={"username": "x2", "password": "long-enough-pw", "roles": ["agent"]},
                           headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "x2" not in client.get("/admin/users").text


def test_agent_cannot_open_admin_pages(client, make_user):
    make_user("agent", username="ada")
    web_sign_in(client, "ada")
    assert client.get("/admin/users", headers={"accept": "text/html"}).status_code == 403
    assert client.get("/admin/audit").status_code == 403


def test_untrusted_text_is_escaped(client, make_user):
    make_user("admin", username="root", display_name="<script>alert(1)</script>")
    web_sign_in(client, "root")
    page = client.get("/admin/users")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


# ---------------------------------------------------------------- every page on an empty database

from tests.integration.test_access_matrix import RULES  # noqa: E402  (the one list of pages and their roles)

PAGES = sorted({r.path for r in RULES if r.method == "GET" and r.page and not r.public})
# Pages that answer ?format=csv with their rows (app/core/export.py); the others ignore the parameter.
EXPORTABLE = {
    "/evaluations", "/evaluations/queue", "/evaluations/sampling", "/calibrations", "/imports", "/search",
    "/customers", "/customers/{customer_id}", "/analytics", "/admin/auto-qa-agreement", "/reviews",
    "/reviews/actions", "/reviews/meetings", "/scorecards", "/social", "/social/dashboard",
    "/social/repeat-contacts", "/social/topics", "/surveys", "/surveys/unlinked", "/scores", "/admin/users",
    "/admin/webhooks", "/admin/webhooks/{endpoint_id}", "/admin/audit", "/jobs"}


def test_every_page_and_export_answers_on_an_empty_database(client, make_user):
    """Only users exist: every page each role may open renders (an id route: a clean 404), never a 500; every
    list exports a CSV with its header row. (One test for all roles: the templates compile once.)"""
    rules = {r.path: r for r in RULES if r.method == "GET" and r.page}
    failures = []
    for role in ("admin", "evaluator", "coach", "agent", "executive"):
        make_user(role, username=f"empty_{role}")
        web_sign_in(client, f"empty_{role}")
        for path in PAGES:
            if role not in rules[path].allowed:
                continue
            has_id = "{" in path
            url = re.sub(r"\{\w+\}", "999999", path)
            page = client.get(url, headers={"accept": "text/html"}, follow_redirects=False)
            if page.status_code != (404 if has_id else 200):
                failures.append(f"{role} {url}: {page.status_code}")
            if path in EXPORTABLE and not has_id:
                export = client.get(url, params={"format": "csv"})
                if export.status_code != 200 or not export.headers["content-type"].startswith("text/csv") \
                        or not export.text.splitlines():
                    failures.append(f"{role} {url}?format=csv: {export.status_code}")
    assert not failures, failures
