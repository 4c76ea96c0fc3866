from tests.access_matrix import ALL, Rule

REVIEWERS = frozenset({"admin", "evaluator"})
ADMIN = frozenset({"admin"})

RULES = [
    Rule("GET", "/api/interactions/{interaction_id}/analytics", ALL),
    Rule("POST", "/api/interactions/{interaction_id}/analytics/run", REVIEWERS),
    Rule("POST", "/api/interactions/{interaction_id}/auto-answers/{question_id}/review", REVIEWERS, json={}),
    Rule("GET", "/api/analytics/interactions", ALL),
    Rule("GET", "/api/analytics/agreement", ADMIN),
    Rule("GET", "/interactions/{interaction_id}/analytics/panel", ALL, page=True),
    Rule("GET", "/analytics/interactions/{interaction_id}", ALL, page=True),
    Rule("POST", "/analytics/interactions/{interaction_id}/review", REVIEWERS, data={}, page=True),
    Rule("GET", "/analytics", ALL, page=True),
    Rule("GET", "/admin/auto-qa-agreement", ADMIN, page=True),
]
