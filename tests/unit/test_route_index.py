"""The route index (app/core/route_index.py) only skips routers that cannot match: for every route of the app, and
for paths of no route, the route chosen, "method not allowed", "not found" and the trailing-slash redirect are
those of FastAPI's own matching."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Match

from app.core.route_index import path_key, route_keys
from app.main import create_app
from tests.conftest import make_settings

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    indexed = create_app(make_settings(tmp_path_factory.mktemp("indexed")))
    plain = create_app(make_settings(tmp_path_factory.mktemp("plain")))
    unindexed = 0
    for route in plain.router.routes:
        if "matches" in vars(route):  # the index's check, put on the instance: FastAPI's own method again
            del route.matches
            unindexed += 1
    assert unindexed >= 25  # the feature routers were indexed (a FastAPI upgrade that drops them fails here)
    return indexed, plain


def chosen(app: Any, method: str, path: str) -> tuple[str, int, Any]:
    """What the app's router picks for a request: the first full match, else the first partial (405)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b"",
             "app": app}
    partial = None
    for number, route in enumerate(app.router.routes):
        match, child = route.matches(scope)
        if match == Match.FULL:
            return "full", number, _endpoint(route, scope)
        if match == Match.PARTIAL and partial is None:
            partial = ("partial", number, None)
    return partial or ("none", -1, None)


def _endpoint(route: Any, scope: dict[str, Any]) -> Any:
    """The endpoint answering: inside a feature router, the route its own matching picks."""
    while hasattr(route, "_match"):  # feature routers, and routers included in them
        route = route._match(dict(scope))[2]
    endpoint = getattr(route, "endpoint", None)  # a closure of create_app is another object in each app
    return f"{endpoint.__module__}.{endpoint.__qualname__}" if endpoint else type(route).__name__


def every_route_path(app: Any) -> list[str]:
    paths = set()
    for route in app.router.routes:
        contexts = route.effective_route_contexts() if hasattr(route, "effective_route_contexts") else [route]
        for context in contexts:
            path = getattr(context, "path_format", None) or getattr(context, "path", None)
            if path:
                paths.add(re.sub(r"\{[^}]+\}", "1", path))
    return sorted(paths)


def test_every_route_and_method_is_matched_as_without_the_index(apps):
    indexed, plain = apps
    paths = every_route_path(plain)
    assert len(paths) > 150
    extra = ["/nowhere", "/api/nowhere", "/evaluations/1/nowhere", "/evaluations/", "/api/search/", "//x", ""]
    for path in paths + extra + [p + "/" for p in paths]:
        for method in METHODS:
            assert chosen(indexed, method, path) == chosen(plain, method, path), (method, path)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nowhere"), ("GET", "/api/nowhere"), ("DELETE", "/healthz"), ("PUT", "/api/me"),
    ("GET", "/search/"), ("GET", "/evaluations/"), ("GET", "/login"), ("POST", "/api/chats"),
])
def test_answers_are_those_of_fastapis_own_matching(apps, method, path):
    indexed, plain = apps
    with TestClient(indexed) as a, TestClient(plain) as b:
        first = a.request(method, path, follow_redirects=False)
        second = b.request(method, path, follow_redirects=False)
    assert (first.status_code, first.headers.get("location")) == (second.status_code, second.headers.get("location"))


def test_keys_of_paths_and_routes():
    assert path_key("/") == ("", "")
    assert path_key("/api/search") == path_key("/api/search/") == ("api", "search")
    assert path_key("/evaluations") == ("evaluations", "")
    assert route_keys(["/evaluations/{evaluation_id}", "/evaluations/queue"]) == {("evaluations", "*"),
                                                                                   ("evaluations", "queue")}
    assert route_keys(["/{anything:path}"]) is None  # a router taking any first segment is not indexed
