"""Coaching: coaches (their team) and admins change coaching; the agent acknowledges their own; evaluators and
executives read; agents read their own (scope is tested in tests/integration/test_coaching_*.py)."""

from tests.access_matrix import ALL, STAFF, Rule

MANAGERS = frozenset({"coach", "admin"})
ADMIN = frozenset({"admin"})
AGENT = frozenset({"agent"})

RULES = [
    Rule("GET", "/api/coaching/assignments", ALL),
    Rule("GET", "/api/coaching/assignments.csv", ALL),
    Rule("POST", "/api/coaching/assignments", MANAGERS, json={}),
    Rule("POST", "/api/coaching/assignments/from-evaluation/{evaluation_id}", MANAGERS, json={}),
    Rule("GET", "/api/coaching/assignments/{assignment_id}", ALL),
    Rule("PATCH", "/api/coaching/assignments/{assignment_id}", MANAGERS, json={}),
    Rule("POST", "/api/coaching/assignments/{assignment_id}/status", MANAGERS, json={"status": "in_progress"}),
    Rule("POST", "/api/coaching/assignments/{assignment_id}/acknowledge", AGENT, json={}),
    Rule("POST", "/api/coaching/assignments/{assignment_id}/sessions", MANAGERS, json={}),
    Rule("PATCH", "/api/coaching/sessions/{session_id}", MANAGERS, json={}),
    Rule("GET", "/api/coaching/assignments/{assignment_id}/effectiveness", ALL),
    Rule("GET", "/api/coaching/effectiveness", STAFF),
    Rule("GET", "/api/coaching/effectiveness.csv", STAFF),
    Rule("GET", "/api/coaching/rules", ADMIN),
    Rule("POST", "/api/coaching/rules", ADMIN, json={}),
    Rule("PATCH", "/api/coaching/rules/{rule_id}", ADMIN, json={}),
    Rule("POST", "/api/coaching/rules/apply", ADMIN),
    Rule("GET", "/coaching", ALL, page=True),
    Rule("GET", "/coaching/new", MANAGERS, page=True),
    Rule("POST", "/coaching/new", MANAGERS, data={}, page=True),
    Rule("POST", "/coaching/from-evaluation/{evaluation_id}", MANAGERS, data={}, page=True),
    Rule("GET", "/coaching/effectiveness", STAFF, page=True),
    Rule("GET", "/coaching/rules", ADMIN, page=True),
    Rule("POST", "/coaching/rules", ADMIN, data={}, page=True),
    Rule("POST", "/coaching/rules/apply", ADMIN, data={}, page=True),
    Rule("POST", "/coaching/rules/{rule_id}", ADMIN, data={}, page=True),
    Rule("GET", "/coaching/{assignment_id}", ALL, page=True),
    Rule("POST", "/coaching/{assignment_id}/status", MANAGERS, data={"status": "in_progress"}, page=True),
    Rule("POST", "/coaching/{assignment_id}/acknowledge", AGENT, data={}, page=True),
    Rule("POST", "/coaching/{assignment_id}/sessions", MANAGERS, data={}, page=True),
    Rule("POST", "/coaching/sessions/{session_id}", MANAGERS, data={}, page=True),
]
