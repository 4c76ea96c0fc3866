from tests.access_matrix import ALL, Rule

ADMIN = frozenset({"admin"})
LINKERS = frozenset({"admin", "executive", "evaluator"})
FIGURES = frozenset({"admin", "executive", "evaluator", "coach"})

RULES = [
    Rule("POST", "/api/surveys/webhook/{source}", ALL, json={}, public=True,
         anonymous_status=401),  # unsigned: refused by the webhook signature, not by sign-in
    Rule("GET", "/api/surveys/sources", ADMIN),
    Rule("POST", "/api/surveys/sources", ADMIN, json={}),
    Rule("PATCH", "/api/surveys/sources/{source_id}", ADMIN, json={}),
    Rule("POST", "/api/surveys/sources/{source_id}/upload", ADMIN, data={}),
    Rule("GET", "/api/surveys/responses", LINKERS),
    Rule("POST", "/api/surveys/responses/{response_id}/link", LINKERS, json={}),
    Rule("GET", "/api/surveys/figures", FIGURES),
    Rule("GET", "/surveys", FIGURES, page=True),
    Rule("GET", "/surveys/unlinked", LINKERS, page=True),
    Rule("POST", "/surveys/responses/{response_id}/link", LINKERS, data={}, page=True),
    Rule("GET", "/surveys/sources", ADMIN, page=True),
    Rule("POST", "/surveys/sources", ADMIN, data={}, page=True),
    Rule("POST", "/surveys/sources/{source_id}", ADMIN, data={}, page=True),
    Rule("POST", "/surveys/sources/{source_id}/upload", ADMIN, data={}, page=True),
]
