"""Phone numbers in the deployment's default region (`EARSHOT_PHONE_DEFAULT_REGION`, e.g. "GB" or "HK").

Every place that reads a phone number written without "+country" (imports, connectors, surveys, customer
matching, personal-data detection) goes through this module, so a Hong Kong deployment reads "9123 4567"
as +852 9123 4567 everywhere rather than as a UK number in one place and a HK number in another.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import phonenumbers

from app.core.errors import InvalidInput
from app.core.settings import Settings

FALLBACK_REGION = "GB"  # the Settings default


def default_region(settings: Settings | None = None) -> str:
    """The configured default region, upper-case ("GB" when unset).

    Without `settings` (code paths that are not given the app's settings, e.g. a survey row parser) the
    environment and `.env` are read as Settings reads them, so the same deployment answers the same everywhere.
    """
    region = (settings or settings_from_environment()).phone_default_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"EARSHOT_PHONE_DEFAULT_REGION {region!r} is not a region code (e.g. GB, HK, US)")
    return region


def settings_from_environment() -> Settings:
    """Settings as the EARSHOT_* variables and `.env` give them, built again only when either changes
    (building them costs milliseconds; detectors call this per message)."""
    dotenv = Path(".env").resolve()
    key = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("EARSHOT_")))
    return _settings(key, str(dotenv), dotenv.stat().st_mtime if dotenv.exists() else 0.0)


@lru_cache(maxsize=8)
def _settings(environment: tuple[tuple[str, str], ...], dotenv: str, mtime: float) -> Settings:
    return Settings()


def parse_phone(raw: str, *, region: str | None = None) -> phonenumbers.PhoneNumber:
    """The number `raw` denotes, read in `region` (default: the configured region) unless it carries
    "+country" or "00country". Raises InvalidInput when it is not a possible phone number."""
    try:
        number = phonenumbers.parse(raw, region or default_region())
        if not phonenumbers.is_valid_number(number):
            number = _with_country_code(raw) or number
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"not a phone number: {raw!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(f"not a possible phone number: {raw!r}")
    return number


def _with_country_code(raw: str) -> phonenumbers.PhoneNumber | None:
    """A number that is not valid in the region but is once read as international: "852 9123 4567" or
    "00852 9123 4567" (the "00" prefix is not every region's: Hong Kong dials 001)."""
    digits = "".join(c for c in raw if c.isdigit())
    if raw.strip().startswith("+") or len(digits) < 8:
        return None
    digits = digits[2:] if digits.startswith("00") else digits
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 ("+85291234567"). Raises InvalidInput when the text is not a possible phone number."""
    return _e164(raw, region or default_region())


@lru_cache(maxsize=4096)
def _e164(raw: str, region: str) -> str:
    # ~1 ms a number, and an import gives the customer's number on every line of a conversation
    return phonenumbers.format_number(parse_phone(raw, region=region), phonenumbers.PhoneNumberFormat.E164)


def is_valid_in(digits: str, region: str) -> bool:
    """Whether a national digit string (no "+") is a valid number of `region` — what a detector asks of
    a bare digit run like "91234567"."""
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(digits, region)))
    except phonenumbers.NumberParseException:
        return False


def is_possible_in(digits: str, region: str) -> bool:
    """Whether a national digit string has the length of a number of `region` (allocated or not)."""
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_possible_number(number)) and len(digits) >= 7
