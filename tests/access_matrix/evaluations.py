from tests.access_matrix import ALL, Rule

EVALUATORS = frozenset({"admin", "evaluator"})
AGENTS = frozenset({"agent"})
ADMIN = frozenset({"admin"})

RULES = [
    Rule("GET", "/api/evaluations", ALL),
    Rule("POST", "/api/evaluations", EVALUATORS, json={}),
    Rule("GET", "/api/evaluations/{evaluation_id}", ALL),
    Rule("GET", "/api/evaluations/{evaluation_id}/history", ALL),
    Rule("GET", "/api/evaluations/{evaluation_id}/failed-answers", ALL),
    Rule("PUT", "/api/evaluations/{evaluation_id}/answers", EVALUATORS, json={}),
    Rule("POST", "/api/evaluations/{evaluation_id}/preview", EVALUATORS, json=[]),
    Rule("POST", "/api/evaluations/{evaluation_id}/submit", EVALUATORS, json={}),
    Rule("POST", "/api/evaluations/{evaluation_id}/acknowledge", AGENTS),
    Rule("POST", "/api/evaluations/{evaluation_id}/dispute", AGENTS, json={}),
    Rule("POST", "/api/evaluations/{evaluation_id}/resolve", EVALUATORS, json={}),
    Rule("GET", "/api/evaluation-summary", ALL),
    Rule("GET", "/api/assignments", EVALUATORS),
    Rule("POST", "/api/assignments", EVALUATORS, json={}),
    Rule("GET", "/api/sampling-rules", ADMIN),
    Rule("POST", "/api/sampling-rules", ADMIN, json={}),
    Rule("POST", "/api/sampling-rules/{rule_id}/run", ADMIN, json={}),
    Rule("GET", "/api/calibrations", EVALUATORS),
    Rule("POST", "/api/calibrations", EVALUATORS, json={}),
    Rule("GET", "/api/calibrations/{calibration_id}", EVALUATORS),
    Rule("POST", "/api/calibrations/{calibration_id}/evaluation", EVALUATORS),
    Rule("POST", "/api/calibrations/{calibration_id}/close", EVALUATORS),
]

PAGE_RULES = [
    Rule("GET", "/evaluations", ALL, page=True),
    Rule("GET", "/evaluations/queue", EVALUATORS, page=True),
    Rule("GET", "/evaluations/suggestions", EVALUATORS, page=True),
    Rule("GET", "/evaluations/sampling", ADMIN, page=True),
    Rule("POST", "/evaluations/sampling", ADMIN, data={}, page=True),
    Rule("POST", "/evaluations/sampling/{rule_id}/run", ADMIN, data={}, page=True),
    Rule("POST", "/evaluations/sampling/{rule_id}/per-agent", ADMIN, data={"per_agent": "5"}, page=True),
    Rule("GET", "/evaluations/new", EVALUATORS, page=True),
    Rule("POST", "/evaluations/new", EVALUATORS, data={}, page=True),
    Rule("GET", "/evaluations/{evaluation_id}", ALL, page=True),
    Rule("GET", "/evaluations/{evaluation_id}/edit", EVALUATORS, page=True),
    Rule("POST", "/evaluations/{evaluation_id}/edit", EVALUATORS, data={}, page=True),
    Rule("POST", "/evaluations/{evaluation_id}/acknowledge", AGENTS, page=True),
    Rule("POST", "/evaluations/{evaluation_id}/dispute", AGENTS, data={}, page=True),
    Rule("POST", "/evaluations/{evaluation_id}/resolve", EVALUATORS, data={}, page=True),
    Rule("GET", "/calibrations", EVALUATORS, page=True),
    Rule("POST", "/calibrations", EVALUATORS, data={}, page=True),
    Rule("GET", "/calibrations/bias", EVALUATORS, page=True),  # evaluators: their own rows only
    Rule("GET", "/calibrations/agreement", EVALUATORS, page=True),
    Rule("GET", "/calibrations/{calibration_id}", EVALUATORS, page=True),
    Rule("POST", "/calibrations/{calibration_id}/start", EVALUATORS, page=True),
    Rule("POST", "/calibrations/{calibration_id}/close", EVALUATORS, page=True),
]
RULES += PAGE_RULES
