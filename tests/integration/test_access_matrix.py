"""Every endpoint × every role: allowed roles get past authorization, the others get 403, and anonymous
callers get 401 (API) or a redirect to sign-in (pages). Public rows answer every caller, signed in or not,
with their declared status. No request of the matrix may end in a server error (5xx)."""

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
    response = client.request(rule.method, path, **kwargs)
    assert response.status_code < 500, f"{rule.method} {path}: {response.status_code} {response.text[:300]}"
    return response


def _sign_out(client) -> None:
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.method} {r.path}" for r in RULES])
def test_role_matrix(rule: Rule, client, make_user):
    users = {role: make_user(role, username=f"m_{role}") for role in ROLES}
    _sign_out(client)
    anonymous = _call(client, rule)
    if rule.public:  # reachable without signing in: the same answer signed in or not (its own tests check more)
        sign_in(client, users["agent"].username)  # the least privileged role; more wrong logins would be throttled
        got = {"anonymous": anonymous.status_code, "agent": _call(client, rule).status_code}
        assert set(got.values()) == {rule.anonymous_status}, f"expected {rule.anonymous_status}: {got}"
        assert not anonymous.headers.get("location", "").startswith("/login")
        return
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


# ---------------------------------------------------------------- scope: legs of a transferred call

INTERACTION_RULES = [r for r in RULES if r.method == "GET" and "{interaction_id}" in r.path
                     and not r.path.startswith(("/social", "/api/social"))]  # social threads: care-team scope


def _transferred_call(session, first_agent_id: int, last_agent_id: int) -> int:
    """A call taken by one agent and transferred to another (two legs), transcribed."""
    from datetime import UTC, datetime

    from app.interactions import service
    from app.interactions.models import Segment

    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    interaction, _ = service.upsert_interaction(session=session, data=service.InteractionData(
        source="matrix", external_id="transferred", channel="call", started_at=start,
        legs=[service.LegData(agent_id=first_agent_id, queue="billing", started_at=start),
              service.LegData(agent_id=last_agent_id, queue="retention", started_at=start)]))
    assert interaction.id is not None and interaction.agent_id == last_agent_id
    session.add(Segment(interaction_id=interaction.id, seq=0, speaker="customer", start=0, end=2,
                        text="my router is broken", redacted_text="my router is broken"))
    session.commit()
    return interaction.id


def _scope_refused(response, interaction_id: int) -> bool:
    """404 because the interaction is out of scope (not because, say, the call has no audio yet)."""
    return response.status_code == 404 and f"interaction {interaction_id} not found" in response.text


def test_every_interaction_route_follows_the_one_visibility_rule_on_every_leg(client, session, make_user):
    """Agents on an earlier leg of a transferred call, and the coaches of either team, see the call and
    everything hanging off it (transcript, audio, analytics) on every route of the matrix; others get 404."""
    assert len(INTERACTION_RULES) >= 8  # the table really holds the interaction routes
    first = make_user("agent", username="leg_first", team="Billing")
    last = make_user("agent", username="leg_last", team="Retention")
    make_user("agent", username="leg_outsider", team="Sales")
    make_user("coach", username="coach_billing", team="Billing")
    make_user("coach", username="coach_sales", team="Sales")
    interaction_id = _transferred_call(session, first.id, last.id)
    sees = {"leg_first": True, "leg_last": True, "coach_billing": True, "leg_outsider": False, "coach_sales": False}
    failures = []
    for username, visible in sees.items():
        sign_in(client, username)
        for rule in INTERACTION_RULES:
            response = _call(client, Rule(rule.method, rule.path, rule.allowed, page=rule.page,
                                          path_params={**rule.path_params, "interaction_id": interaction_id}))
            if response.status_code >= 500 or _scope_refused(response, interaction_id) == visible:
                failures.append(f"{username} {rule.path}: {response.status_code}")
    assert not failures, "visibility differs from the one rule: " + "; ".join(failures)


CUSTOMER_RULES = [r for r in RULES if r.method == "GET" and "customer" in r.path]


def test_every_customer_route_follows_the_one_visibility_rule(client, session, make_user):
    """A customer is seen through an interaction one may see (the one rule): coaches of either leg's team and
    the agents of the call find the customer in the lists (page, CSV, API) and open it; a coach of another team
    finds it in no list and opens nothing (the lists once showed every customer to every coach — names,
    e-mails and phone numbers — whose pages then answered 404)."""
    from app.interactions import customers as customer_service
    from app.interactions.customers import Identity
    from app.interactions.models import Interaction

    assert {r.path for r in CUSTOMER_RULES} >= {"/api/customers", "/api/customers/{customer_id}",
                                                "/api/customers/{customer_id}/timeline", "/customers",
                                                "/customers/{customer_id}"}
    first = make_user("agent", username="leg_first", team="Billing")
    last = make_user("agent", username="leg_last", team="Retention")
    make_user("coach", username="coach_billing", team="Billing")
    make_user("coach", username="coach_sales", team="Sales")
    make_user("executive", username="boss")
    interaction = session.get(Interaction, _transferred_call(session, first.id, last.id))
    customer = customer_service.resolve_customer(session=session, display_name="Wong Siu Ming",
                                                 identities=[Identity("email", "siu.ming@example.com")])
    interaction.customer_id = customer.id
    session.add(interaction)
    session.commit()
    listings = {"/api/customers": lambda: client.get("/api/customers").text,
                "/customers": lambda: client.get("/customers").text,
                "/customers?format=csv": lambda: client.get("/customers?format=csv").text}
    failures = []
    for username, visible in {"coach_billing": True, "leg_first": None, "boss": True, "coach_sales": False}.items():
        sign_in(client, username)
        if visible is not None:  # agents have no customer lists
            for name, listing in listings.items():
                if ("siu.ming@example.com" in listing()) != visible:
                    failures.append(f"{username} {name}: listed={not visible}")
        for rule in CUSTOMER_RULES:
            if "{customer_id}" not in rule.path:
                continue
            response = _call(client, Rule(rule.method, rule.path, rule.allowed, page=rule.page,
                                          path_params={"customer_id": customer.id}))
            if response.status_code >= 500 or (response.status_code == 404) == bool(visible is not False):
                failures.append(f"{username} {rule.path}: {response.status_code}")
    assert not failures, "customer visibility differs from the one rule: " + "; ".join(failures)
