from tests.access_matrix import ALL, Rule

RULES = [
    # id 999999 → 404 for the allowed roles; others 403
    Rule("POST", "/api/recordings/{recording_id}/transcribe", frozenset({"admin", "evaluator"})),
    Rule("GET", "/api/interactions/{interaction_id}/transcript", ALL),
    Rule("GET", "/api/interactions/{interaction_id}/redacted-audio", ALL),
]
