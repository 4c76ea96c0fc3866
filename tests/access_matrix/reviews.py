"""Review cases: admins and executives decide; evaluators and coaches investigate; agents see nothing."""

from tests.access_matrix import Rule

INVESTIGATORS = frozenset({"admin", "executive", "evaluator", "coach"})
DECIDERS = frozenset({"admin", "executive"})
ADMIN = frozenset({"admin"})

RULES = [
    Rule("GET", "/api/reviews/cases", INVESTIGATORS),
    Rule("GET", "/api/reviews/cases/{case_id}", INVESTIGATORS),
    Rule("POST", "/api/reviews/cases/{case_id}/status", INVESTIGATORS, json={}),
    Rule("PATCH", "/api/reviews/cases/{case_id}/findings", INVESTIGATORS, json={}),
    Rule("POST", "/api/reviews/cases/{case_id}/decision", DECIDERS, json={}),
    Rule("POST", "/api/reviews/cases/{case_id}/actions", DECIDERS, json={}),
    Rule("GET", "/api/reviews/actions", INVESTIGATORS),
    Rule("PATCH", "/api/reviews/actions/{action_id}", INVESTIGATORS, json={}),  # the owner; the service checks
    Rule("GET", "/api/reviews/config", INVESTIGATORS),
    Rule("PUT", "/api/reviews/config", ADMIN, json={}),
    Rule("GET", "/api/reviews/meetings", DECIDERS),
    Rule("POST", "/api/reviews/meetings", DECIDERS, json={}),
    Rule("GET", "/api/reviews/meetings/{meeting_id}", DECIDERS),
    Rule("PUT", "/api/reviews/meetings/{meeting_id}/minutes", DECIDERS, json={}),
    Rule("POST", "/api/reviews/meetings/{meeting_id}/agenda", DECIDERS),
    Rule("POST", "/api/reviews/meetings/{meeting_id}/pack", DECIDERS),
    Rule("GET", "/api/reviews/meetings/{meeting_id}/pack.pdf", DECIDERS),
    Rule("GET", "/reviews", INVESTIGATORS, page=True),
    Rule("GET", "/reviews/cases/{case_id}", INVESTIGATORS, page=True),
    Rule("POST", "/reviews/cases/{case_id}/findings", INVESTIGATORS, data={}, page=True),
    Rule("POST", "/reviews/cases/{case_id}/status", INVESTIGATORS, data={}, page=True),
    Rule("POST", "/reviews/cases/{case_id}/decision", DECIDERS, data={}, page=True),
    Rule("POST", "/reviews/cases/{case_id}/actions", DECIDERS, data={}, page=True),
    Rule("POST", "/reviews/cases/{case_id}/sheet", INVESTIGATORS, data={}, page=True),
    Rule("POST", "/reviews/meetings/{meeting_id}/sheet", DECIDERS, data={}, page=True),
    Rule("GET", "/reviews/actions", INVESTIGATORS, page=True),
    Rule("POST", "/reviews/actions/{action_id}", INVESTIGATORS, data={}, page=True),
    Rule("GET", "/reviews/meetings", DECIDERS, page=True),
    Rule("POST", "/reviews/meetings", DECIDERS, data={}, page=True),
    Rule("GET", "/reviews/meetings/{meeting_id}", DECIDERS, page=True),
    Rule("POST", "/reviews/meetings/{meeting_id}/minutes", DECIDERS, data={}, page=True),
    Rule("POST", "/reviews/meetings/{meeting_id}/agenda", DECIDERS, data={}, page=True),
    Rule("POST", "/reviews/meetings/{meeting_id}/pack", DECIDERS, data={}, page=True),
    Rule("GET", "/reviews/meetings/{meeting_id}/pack.pdf", DECIDERS, page=True),
]
