import pytest
from markupsafe import Markup

from app.core.errors import InvalidInput
from app.interactions.customers import normalise_identity, normalise_phone
from app.interactions.search import parse_query
from app.interactions.snippets import make_snippet


@pytest.mark.parametrize("raw", ["07700 900123", "+44 7700 900123", "0044 7700-900123", "(07700) 900 123"])
def test_phone_numbers_normalise_to_e164_with_default_region(raw):
    assert normalise_phone(raw) == "+447700900123"


def test_phone_region_is_configurable():
    assert normalise_phone("(202) 555-0142", region="US") == "+12025550142"


@pytest.mark.parametrize("raw", ["hello", "12", ""])
def test_bad_phone_numbers_are_rejected(raw):
    with pytest.raises(InvalidInput):
        normalise_phone(raw)


def test_emails_are_case_folded_and_handles_lowercased_per_platform():
    assert normalise_identity("email", " Maria.Lopez@Example.COM ").value == "maria.lopez@example.com"
    handle = normalise_identity("social", "@MariaL", "Twitter")
    assert (handle.kind, handle.platform, handle.value) == ("social", "twitter", "marial")
    with pytest.raises(InvalidInput):
        normalise_identity("social", "@x", "")
    with pytest.raises(InvalidInput):
        normalise_identity("email", "not-an-address")
    assert normalise_identity("crm", " C-001 ").value == "C-001"


def test_query_parsing_quotes_everything():
    parsed = parse_query('refund "late fee" OR) NEAR(x* "')
    assert parsed.terms == ["refund", "or", "near", "x"]
    assert parsed.phrases == [["late", "fee"]]
    assert parsed.fts5() == '"refund" "or" "near" "x" "late fee"'
    assert parse_query('  " ').empty


def test_snippet_escapes_text_before_marking():
    snippet = make_snippet("I want a <script>alert(1)</script> refund for the refunded fee", ["refund"])
    assert isinstance(snippet, Markup)
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<mark>refund</mark>" in snippet and "<mark>refunded</mark>" in snippet


def test_short_prefixes_are_words():
    assert parse_query("re* engin*").terms == ["re", "engin*"]
