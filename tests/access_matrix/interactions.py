from tests.access_matrix import ALL, NOBODY, STAFF, Rule

ADMIN = frozenset({"admin"})

RULES = [
    # interactions, customers, search (scope is tested in test_interactions_*: agents see what they handled)
    Rule("GET", "/api/interactions/{interaction_id}", ALL),
    Rule("GET", "/api/customers", STAFF),
    Rule("GET", "/api/customers/{customer_id}", ALL),
    Rule("GET", "/api/customers/{customer_id}/timeline", ALL),
    Rule("POST", "/api/customers/{customer_id}/merge", ADMIN, json={"into": 1}),
    Rule("POST", "/api/customers/{customer_id}/unmerge", ADMIN),
    Rule("GET", "/api/search", ALL, path_params={}),
    # ingest
    Rule("POST", "/api/recordings", ADMIN, data={"metadata": "{}"}),
    Rule("GET", "/api/recordings/{recording_id}/audio", ALL),
    Rule("POST", "/api/chats", ADMIN, json=[]),
    Rule("POST", "/api/social", ADMIN, json={"posts": []}),
    Rule("POST", "/api/emails/upload", ADMIN, data={}),
    Rule("POST", "/api/imports/{kind}/upload", ADMIN, data={}, path_params={"kind": "chats"}),
    # webhooks take an admin's API token; web sessions are refused for every role
    Rule("POST", "/api/webhooks/interactions", NOBODY, json={}),
]

RULES += [
    Rule("GET", "/search", ALL, page=True),
    Rule("GET", "/customers", STAFF, page=True),
    Rule("GET", "/customers/{customer_id}", ALL, page=True),
    Rule("GET", "/interactions/{interaction_id}", ALL, page=True),
    Rule("GET", "/imports", ADMIN, page=True),
    Rule("POST", "/imports/upload", ADMIN, data={}, page=True),
]
