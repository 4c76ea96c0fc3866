from tests.access_matrix import ALL, Rule

RULES = [
    # id 999999 → 404 for the allowed roles; others 403
    Rule("POST", "/api/recordings/{recording_id}/transcribe", frozenset({"admin", "evaluator"})),
    Rule("GET", "/api/interactions/{interaction_id}/transcript", ALL),
    Rule("GET", "/api/interactions/{interaction_id}/redacted-audio", ALL),
    # the player's audio; the original (/api/recordings/{id}/audio) is further limited to
    # EARSHOT_UNREDACTED_ROLES once the record is in scope (tests/integration/test_privacy.py)
    Rule("GET", "/api/interactions/{interaction_id}/audio", ALL),
]
