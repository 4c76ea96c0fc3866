"""Every endpoint × every role: allowed roles get past authorization, the others get 403, and anonymous
callers get 401 (API) or a redirect to sign-in (pages)."""

import importlib
import pkgutil
import re

import pytest
from fastapi.routing import APIRoute

import tests.access_matrix as matrix_pkg
from tests.access_matrix import ROLES, Rule
from tests.conftest import sign_in

IGNORED_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _all_rules() -> list[Rule]:
    rules: list[Rule] = []
    for info in pkgutil.iter_modules(matrix_pkg.__path__):
        rules.extend(importlib.import_module(f"tests.access_matrix.{info.name}").RULES)
    return rules


RULES = _all_rules()


@pytest.fixture
def backend() -> str:  # the role logic does not depend on the database: run the matrix on SQLite
    return "sqlite"


def test_every_endpoint_has_a_rule(app):
    declared = {rule.key for rule in RULES}
    missing = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path in IGNORED_PATHS:
            continue
        for method in route.methods - {"HEAD"}:
            if (method, route.path) not in declared:
                missing.append(f"{method} {route.path}")
    assert not missing, "endpoints without a row in tests/access_matrix: " + ", ".join(sorted(missing))


def _call(client, rule: Rule):
    path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(rule.path_params.get(m.group(1), 999999)), rule.path)
    kwargs = {"follow_redirects": False, "headers": {"accept": "text/html" if rule.page else "application/json"}}
    if rule.json is not None:
        kwargs["json"] = rule.json
    if rule.data is not None:
        kwargs["data"] = rule.data
    return client.request(rule.method, path, **kwargs)


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.method} {r.path}" for r in RULES])
def test_role_matrix(rule: Rule, client, make_user):
    if rule.public:  # declared reachable without signing in; its behaviour is tested in its own tests
        return
    users = {role: make_user(role, username=f"m_{role}") for role in ROLES}
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    anonymous = _call(client, rule)
    if rule.page:
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    else:
        assert anonymous.status_code == 401, f"anonymous got {anonymous.status_code}"
    for role, user in users.items():
        sign_in(client, user.username)
        response = _call(client, rule)
        if role in rule.allowed:
            assert response.status_code not in (401, 403), f"{role} was refused: {response.text[:300]}"
        else:
            assert response.status_code == 403, f"{role} got {response.status_code}, expected 403"
