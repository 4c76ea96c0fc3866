import pytest

from app.core.security import Principal, Role, parse_roles, token_digest
from app.core.settings import Settings


def test_roles_are_parsed_and_unknown_ones_refused():
    assert parse_roles("agent, coach agent") == [Role.AGENT, Role.COACH]
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        parse_roles(["boss"])
    with pytest.raises(ValueError):
        parse_roles("")


def test_scope_of_roles():
    agent = Principal(user_id=1, username="a", display_name="", roles=frozenset({Role.AGENT}))
    evaluator = Principal(user_id=2, username="e", display_name="", roles=frozenset({Role.EVALUATOR}))
    assert not agent.sees_all_agents and evaluator.sees_all_agents


def test_token_digest_is_stable_and_not_the_token():
    assert token_digest("est_abc") == token_digest("est_abc") != "est_abc"


def test_secret_key_is_generated_once_into_the_data_dir(tmp_path):
    first = Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key
    second = Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
