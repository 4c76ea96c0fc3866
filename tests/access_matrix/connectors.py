from tests.access_matrix import Rule

ADMIN = frozenset({"admin"})

RULES = [
    Rule("GET", "/api/connectors/events", ADMIN),
    Rule("GET", "/api/connectors/webhooks", ADMIN),
    Rule("POST", "/api/connectors/webhooks", ADMIN, json={}),
    Rule("PATCH", "/api/connectors/webhooks/{endpoint_id}", ADMIN, json={}),
    Rule("GET", "/api/connectors/webhooks/{endpoint_id}/deliveries", ADMIN),
    Rule("POST", "/api/connectors/webhooks/deliveries/{delivery_id}/replay", ADMIN),
    Rule("GET", "/admin/webhooks", ADMIN, page=True),
    Rule("POST", "/admin/webhooks", ADMIN, data={}, page=True),
    Rule("POST", "/admin/webhooks/{endpoint_id}", ADMIN, data={}, page=True),
    Rule("GET", "/admin/webhooks/{endpoint_id}", ADMIN, page=True),
    Rule("POST", "/admin/webhooks/deliveries/{delivery_id}/replay", ADMIN, data={}, page=True),
]
