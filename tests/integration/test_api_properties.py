"""Property-based API testing with schemathesis against the app's own /openapi.json, authenticated as an
admin with an API token: generated requests must never cause a 5xx, and answers must match the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from app.auth import service as auth_service

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_no_server_errors_and_answers_match_the_schema(app, make_user, session):
    admin = make_user("admin", username="prop_admin")
    token, _ = auth_service.create_api_token(session=session, principal=auth_service.principal_of(admin),
                                             name="prop")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex=r"^/api/auth/logout")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        try:
            check()
        except BaseException as exc:  # noqa: BLE001 - collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
