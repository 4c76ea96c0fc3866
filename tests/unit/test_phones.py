"""One default phone region for every reader of phone numbers (EARSHOT_PHONE_DEFAULT_REGION)."""

import pytest

from app.core import phones
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.ingest.writing import phone_region
from app.interactions.customers import normalise_identity
from app.surveys.linking import normalise_phone as survey_phone


def test_hong_kong_deployment_reads_local_numbers_as_852(monkeypatch):
    monkeypatch.setenv("EARSHOT_PHONE_DEFAULT_REGION", "HK")
    assert phones.normalise_phone("9123 4567") == "+85291234567"
    assert normalise_identity("phone", "9123-4567").value == "+85291234567"
    assert survey_phone("9123 4567") == "+85291234567"  # surveys use the same region
    # numbers with a country code are read the same in every region
    assert phones.normalise_phone("+44 7700 900123") == "+447700900123"
    assert phones.normalise_phone("00852 2123 4567") == "+85221234567"


def test_uk_is_the_default_and_settings_win_over_the_environment(monkeypatch):
    monkeypatch.delenv("EARSHOT_PHONE_DEFAULT_REGION", raising=False)
    assert phones.default_region() == "GB"
    assert phones.normalise_phone("07700 900123") == "+447700900123"
    assert phone_region(Settings(phone_default_region="hk")) == "HK"
    assert phones.normalise_phone("9123 4567", region=phone_region(Settings(phone_default_region="HK"))) \
        == "+85291234567"


def test_a_country_code_without_its_plus_is_read_as_international(monkeypatch):
    monkeypatch.delenv("EARSHOT_PHONE_DEFAULT_REGION", raising=False)
    assert phones.normalise_phone("852 9123 4567") == "+85291234567"  # in a UK deployment
    assert phones.normalise_phone("1 415 555 0132") == "+14155550132"
    assert phones.normalise_phone("07700 900123") == "+447700900123"  # valid at home: unchanged


def test_a_misconfigured_region_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("EARSHOT_PHONE_DEFAULT_REGION", "XX")
    with pytest.raises(InvalidInput, match="EARSHOT_PHONE_DEFAULT_REGION"):
        phones.normalise_phone("9123 4567")


def test_bare_digit_runs_are_checked_against_a_region():
    assert phones.is_valid_in("91234567", "HK") and phones.is_valid_in("21234567", "HK")
    assert not phones.is_valid_in("12345678", "HK")  # HK numbers never start with 1
    assert not phones.is_valid_in("91234567", "GB")
