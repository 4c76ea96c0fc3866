from tests.access_matrix import ALL, Rule

EDITORS = frozenset({"admin", "evaluator"})

RULES = [
    Rule("GET", "/api/scorecards", ALL),
    Rule("POST", "/api/scorecards", EDITORS, json={}),
    Rule("POST", "/api/scorecards/validate", EDITORS, json={}),
    Rule("POST", "/api/scorecards/import", EDITORS, json={}),
    Rule("GET", "/api/scorecards/{scorecard_id}", ALL),
    Rule("PUT", "/api/scorecards/{scorecard_id}", EDITORS, json={}),
    Rule("GET", "/api/scorecards/{scorecard_id}/versions/{number}", ALL),
    Rule("GET", "/api/scorecards/{scorecard_id}/versions/{number}/yaml", ALL),
    Rule("GET", "/api/scorecards/{scorecard_id}/versions/{number}/test", EDITORS),
    Rule("POST", "/api/scorecards/{scorecard_id}/versions/{number}/auto-check", EDITORS),
    Rule("POST", "/api/scorecards/{scorecard_id}/versions/{number}/publish", EDITORS),
    Rule("POST", "/api/scorecards/{scorecard_id}/versions/{number}/score", ALL, json=[]),
    Rule("POST", "/api/scorecards/{scorecard_id}/retire", EDITORS),
]

RULES += [
    Rule("GET", "/scorecards", ALL, page=True),
    Rule("POST", "/scorecards/import", EDITORS, data={}, page=True),
    Rule("GET", "/scorecards/{scorecard_id}", ALL, page=True),
    Rule("GET", "/scorecards/{scorecard_id}/versions/{number}/test", EDITORS, page=True),
    Rule("POST", "/scorecards/{scorecard_id}/versions/{number}/auto-check", EDITORS, page=True),
    Rule("POST", "/scorecards/{scorecard_id}/versions/{number}/publish", EDITORS, page=True),
    Rule("POST", "/scorecards/{scorecard_id}/retire", EDITORS, page=True),
]
