"""Every state-changing form of every page carries the page's form token (app.auth.forms: a form acts once),
so a new form cannot skip the rule; and the token differs for each rendering."""

import re
from pathlib import Path

from app.core.web import FORM_ONCE_FIELD, make_templates

TEMPLATES = Path(__file__).resolve().parents[2] / "frontend" / "templates"
SIGN_IN = "auth/login.html"  # before a session exists: its own CSRF cookie, nothing to act on twice
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


def post_forms() -> list[tuple[str, str]]:
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = str(path.relative_to(TEMPLATES))
        for attributes, body in FORM.findall(path.read_text()):
            if re.search(r'method="post"', attributes, re.I):
                found.append((name, body))
    return found


def test_every_page_form_that_changes_something_carries_the_form_token():
    forms = post_forms()
    assert len(forms) >= 50  # the scan finds the app's forms (52 when this was written)
    missing = [name for name, body in forms if name != SIGN_IN and "{{ form_fields() }}" not in body]
    assert missing == []
    written_by_hand = [name for name, body in forms if name != SIGN_IN and 'name="csrf_token"' in body]
    assert written_by_hand == []


def test_the_form_fields_hold_the_sessions_csrf_token_and_a_new_token_each_time():
    env = make_templates(str(TEMPLATES), "UTC").env
    template = env.from_string("{{ form_fields() }}|{{ form_fields() }}")
    first, second = template.render(csrf_token='tok"en').split("|")
    assert 'name="csrf_token" value="tok&#34;en"' in first  # escaped
    tokens = [re.search(rf'name="{FORM_ONCE_FIELD}" value="([^"]+)"', html).group(1) for html in (first, second)]
    assert tokens[0] != tokens[1] and all(16 <= len(token) <= 64 for token in tokens)
