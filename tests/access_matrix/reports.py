from tests.access_matrix import ALL, Rule

RULES = [
    # scope inside the route: agents their own, coaches their team, the others everyone (tests/integration/
    # test_agent_summary.py); the matrix's unknown id answers 404 to every role
    Rule("GET", "/agents/{agent_id}/summary.pdf", ALL, page=True),
]
