from tests.access_matrix import ALL, Rule

VIEW = frozenset({"admin", "evaluator", "coach", "executive"})  # + agents of the "Social care" team (own tests)
WORK = frozenset({"admin", "evaluator", "coach"})  # + agents of the "Social care" team
ADMIN = frozenset({"admin"})

RULES = [
    Rule("GET", "/api/social/queue", VIEW),
    Rule("GET", "/api/social/threads/{interaction_id}", VIEW),
    Rule("POST", "/api/social/threads/{interaction_id}/refresh", WORK),
    Rule("POST", "/api/social/threads/{interaction_id}/genuine", WORK, json={"reason": "real"}),
    Rule("POST", "/api/social/threads/{interaction_id}/confirm-non-genuine", WORK),
    Rule("POST", "/api/social/threads/{interaction_id}/resolution", WORK, json={"url": "https://x.example/1"}),
    Rule("GET", "/api/social/threads/{interaction_id}/similar", VIEW),
    Rule("POST", "/api/social/threads/{interaction_id}/process", WORK, json={"process": "billing"}),
    Rule("GET", "/api/social/processes", VIEW),
    Rule("GET", "/api/social/fairness", VIEW),
    Rule("GET", "/api/social/alerts", VIEW),
    Rule("GET", "/api/social/config", VIEW),
    Rule("PUT", "/api/social/config/{platform}", ADMIN, json={}),
    Rule("POST", "/api/social/sweep", ADMIN),
    Rule("GET", "/social", VIEW, page=True),
    Rule("GET", "/social/threads/{interaction_id}", VIEW, page=True),
    Rule("POST", "/social/threads/{interaction_id}/resolution", WORK, data={}, page=True),
    Rule("POST", "/social/threads/{interaction_id}/reply", WORK, data={}, page=True),
    Rule("POST", "/social/threads/{interaction_id}/genuine", WORK, data={}, page=True),
    Rule("POST", "/social/threads/{interaction_id}/confirm-non-genuine", WORK, data={}, page=True),
    Rule("POST", "/social/threads/{interaction_id}/process", WORK, data={}, page=True),
    Rule("GET", "/social/dashboard", VIEW, page=True),
    Rule("POST", "/social/alerts/{alert_id}/ack", WORK, data={}, page=True),
    Rule("GET", "/social/repeat-contacts", frozenset({"admin", "evaluator", "executive"}), page=True),
    Rule("GET", "/social/topics", VIEW, page=True),
    Rule("GET", "/social/settings", ADMIN, page=True),
    Rule("POST", "/social/settings/{platform}", ADMIN, data={}, page=True),
    Rule("GET", "/care", ALL, public=True, page=True),
    Rule("POST", "/social/settings/care/{channel}", ADMIN, data={}, page=True),
    Rule("POST", "/social/settings/listening", ADMIN, data={}, page=True),
]
