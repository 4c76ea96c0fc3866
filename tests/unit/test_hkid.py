"""HKID numbers: check digit, canonical form, and the digest customer matching stores."""

import pytest

from app.core.errors import InvalidInput
from app.core.hkid import check_digit_ok, hkid_digest, normalise_hkid
from app.interactions.customers import normalise_identity


@pytest.mark.parametrize(("letters", "digits", "check"), [
    ("A", "123456", "3"), ("XY", "123456", "3"), ("Z", "683365", "A"), ("B", "987654", "0"), ("C", "668668", "9")])
def test_valid_check_digits(letters, digits, check):
    assert check_digit_ok(letters, digits, check)
    wrong = "0" if check != "0" else "1"
    assert not check_digit_ok(letters, digits, wrong)


def test_written_forms_normalise_to_one_canonical_form():
    for raw in ["A123456(3)", "a123456(3)", " A 123456 (3) ", "A1234563", "A123456 3"]:
        assert normalise_hkid(raw) == "A123456(3)", raw
    assert normalise_hkid("z683365(a)") == "Z683365(A)"


@pytest.mark.parametrize(("raw", "message"), [("A123456(4)", "check digit"), ("A12345(3)", "not an HKID"),
                                              ("ABC123456(3)", "not an HKID"), ("", "not an HKID")])
def test_bad_hkids_are_refused_with_a_reason(raw, message):
    with pytest.raises(InvalidInput, match=message):
        normalise_hkid(raw)


def test_customer_identity_holds_a_digest_not_the_number():
    identity = normalise_identity("hkid", "a123456 (3)")
    assert identity.kind == "hkid" and identity.value == hkid_digest("A123456(3)")
    assert "123456" not in identity.value and identity.value.startswith("sha256:")
    with pytest.raises(InvalidInput):
        normalise_identity("hkid", "A123456(4)")
