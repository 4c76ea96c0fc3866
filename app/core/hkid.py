"""Hong Kong identity card numbers (HKID): "A123456(3)", "XY123456(A)".

One or two letters, six digits and a check digit: the weighted sum (weights 9..2) of the letters (A=10 ..
Z=35, a single letter padded with a space worth 36) and digits, taken as 11 minus the sum mod 11, with 10
written "A" and 11 written "0". A number whose check digit is wrong is not an HKID (a typo, or an order code).

Customer matching stores an HKID only as a digest (`hkid_digest`), never in clear: identities are shown on
customer pages and exports, and an HKID is personal data that must not appear there.
"""

from __future__ import annotations

import hashlib
import re

from app.core.errors import InvalidInput

HKID_TEXT = re.compile(r"^\s*([A-Za-z]{1,2})\s*(\d{6})\s*(?:\(\s*([0-9Aa])\s*\)|([0-9Aa]))\s*$")


def check_digit_ok(letters: str, digits: str, check: str) -> bool:
    """Whether `check` is the right check digit for `letters` (1-2) and `digits` (6)."""
    if not (1 <= len(letters) <= 2 and letters.isascii() and letters.isalpha()
            and len(digits) == 6 and digits.isdigit()):
        return False
    values = ([36] if len(letters) == 1 else []) + [ord(c) - 55 for c in letters.upper()] + [int(d) for d in digits]
    expected = (11 - sum(w * v for w, v in zip(range(9, 1, -1), values, strict=True)) % 11) % 11
    return check.upper() == ("A" if expected == 10 else str(expected))


def normalise_hkid(raw: str) -> str:
    """The canonical form "A123456(3)" of an HKID written with or without brackets, spaces or lower case.
    Raises InvalidInput when it is not an HKID or its check digit is wrong."""
    match = HKID_TEXT.match(raw)
    if match is None:
        raise InvalidInput("not an HKID number (one or two letters, six digits and a check digit)")
    letters, digits, check = match.group(1).upper(), match.group(2), (match.group(3) or match.group(4)).upper()
    if not check_digit_ok(letters, digits, check):
        raise InvalidInput("the HKID check digit is wrong")
    return f"{letters}{digits}({check})"


def hkid_digest(raw: str) -> str:
    """What customer matching stores and compares for an HKID: a SHA-256 of its canonical form.

    Keeps the number off every page and export that lists identities; it is not a secret against someone
    holding the database (the space of HKIDs is small enough to enumerate)."""
    return "sha256:" + hashlib.sha256(f"hkid:{normalise_hkid(raw)}".encode()).hexdigest()
