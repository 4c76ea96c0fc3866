from tests.access_matrix import ALL, STAFF, Rule

RULES = [
    Rule("GET", "/healthz", ALL, public=True),
    Rule("GET", "/readyz", ALL, public=True),
    Rule("POST", "/api/auth/login", ALL, json={"username": "nobody", "password": "x"}, public=True,
         anonymous_status=401),  # wrong credentials
    Rule("POST", "/api/auth/logout", ALL),
    Rule("POST", "/api/auth/logout-all", ALL),
    Rule("GET", "/api/me", ALL),
    Rule("GET", "/api/users", STAFF),
    Rule("POST", "/api/users", frozenset({"admin"}), json={}),
    Rule("PATCH", "/api/users/{user_id}", frozenset({"admin"}), json={}),
    Rule("GET", "/api/teams", STAFF),
    Rule("POST", "/api/teams", frozenset({"admin"}), json={}),
    Rule("GET", "/api/sites", STAFF),
    Rule("POST", "/api/sites", frozenset({"admin"}), json={}),
    Rule("GET", "/api/tokens", ALL),
    Rule("POST", "/api/tokens", ALL, json={}),
    Rule("DELETE", "/api/tokens/{token_id}", ALL),
    Rule("GET", "/api/audit", frozenset({"admin"})),
    Rule("GET", "/api/jobs", ALL),
    Rule("GET", "/api/jobs/{job_id}", ALL),
    Rule("POST", "/api/jobs/{job_id}/retry", frozenset({"admin"})),
    Rule("GET", "/login", ALL, public=True, page=True),
    Rule("POST", "/login", ALL, data={"username": "x", "password": "y"}, public=True, page=True,
         anonymous_status=403),  # no CSRF token from the sign-in form
    Rule("POST", "/logout", ALL, page=True),
    Rule("GET", "/", ALL, page=True),
    Rule("GET", "/admin/users", frozenset({"admin"}), page=True),
    Rule("POST", "/admin/users", frozenset({"admin"}), data={}, page=True),
    Rule("POST", "/admin/users/{user_id}", frozenset({"admin"}), data={}, page=True),
    Rule("GET", "/admin/audit", frozenset({"admin"}), page=True),
    Rule("GET", "/jobs", ALL, page=True),
    Rule("GET", "/admin/recordings/upload", frozenset({"admin"}), page=True),
    Rule("POST", "/admin/recordings/upload", frozenset({"admin"}), data={}, page=True),
    Rule("GET", "/docs/assets/{name}", ALL, path_params={"name": "swagger-ui.css"}, public=True),
    Rule("GET", "/favicon.ico", ALL, public=True),
]

RULES.append(Rule("GET", "/scores", ALL, page=True))
