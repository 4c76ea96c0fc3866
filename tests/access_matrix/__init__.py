"""The role × endpoint matrix. Each feature adds a module here with `RULES`; the test in
tests/integration/test_access_matrix.py fails when an endpoint exists without a rule."""

from dataclasses import dataclass, field
from typing import Any

ROLES = ("admin", "evaluator", "coach", "agent", "executive")
ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "evaluator", "coach", "executive"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    method: str
    path: str  # the route's template, e.g. /api/jobs/{job_id}
    allowed: frozenset[str]
    json: Any = None
    data: dict[str, Any] | None = None
    path_params: dict[str, Any] = field(default_factory=dict)  # default: 999999 for every {param}
    public: bool = False  # reachable without signing in
    anonymous_status: int = 200  # public rows: what anyone (signed in or not) gets for this exact request
    page: bool = False  # an HTML page: anonymous users are redirected to /login

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)
