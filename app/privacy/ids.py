"""Hong Kong identity card numbers, written ("A123456(3)") or read out, checked by their check digit."""

import re

from app.core import hkid
from app.privacy.spans import PiiSpan
from app.privacy.spoken import DIGIT_WORDS, adjacent, digit_runs, is_spelled_letter

NATIONAL_ID = "NATIONAL_ID"
HKID_RE = re.compile(r"(?<![A-Za-z0-9])(?P<letters>[A-Z]{1,2})(?P<digits>\d{6})\s?"
                     r"(?:\(\s?(?P<bracketed>[0-9A])\s?\)|(?P<bare>[0-9A]))(?![A-Za-z0-9])")
HKID_CUE = re.compile(r"\b(?:hkid|hk\s*id|id\s*card|identity\s*card|id\s*(?:number|no\.?))|身份證|身分證|身份证",
                      re.IGNORECASE)
BRACKET_WORDS = {"bracket", "brackets", "in"}


def hkid_ok(letters: str, digits: str, check: str) -> bool:
    """The HKID check digit is right (app/core/hkid.py)."""
    return hkid.check_digit_ok(letters, digits, check)


def hkid_spans(text: str, words: list[tuple[str, int, int]], asked: frozenset[str]) -> list[PiiSpan]:
    """HKIDs written ("A123456(3)", "A1234563" after an ID cue) or read out ("A one two three four five six,
    bracket three"); only numbers whose check digit is right count."""
    spans = []
    cued_text = NATIONAL_ID in asked
    for match in HKID_RE.finditer(text):
        check = match.group("bracketed") or match.group("bare")
        if not hkid_ok(match.group("letters"), match.group("digits"), check):
            continue
        near_cue = HKID_CUE.search(text[max(0, match.start() - 40):match.start()]) is not None
        if match.group("bracketed") or near_cue or cued_text:
            spans.append(PiiSpan(match.start(), match.end(), NATIONAL_ID, match.group(0), 0.9, "regex"))
    for run in digit_runs(text, words):
        first = run.token_index
        candidates = [[j, first - 1] for j in (first - 2,) if is_spelled_letter(text, words, j)
                      and adjacent(text, words[j][2], words[first - 1][1])] + [[first - 1]]
        if not is_spelled_letter(text, words, first - 1) or not adjacent(text, words[first - 1][2], run.tokens[0].start):
            continue
        digits, end = run.digits, run.end
        if len(digits) == 7:
            check = digits[6]
        elif len(digits) == 6:
            after = [w for w in words if w[1] >= run.end][:3]
            while after and after[0][0] in BRACKET_WORDS:
                after = after[1:]
            if not after or not (after[0][0] in DIGIT_WORDS or after[0][0].isdigit() or after[0][0] == "a"):
                continue
            check = "A" if after[0][0] == "a" else DIGIT_WORDS.get(after[0][0], after[0][0])
            end = after[0][2]
        else:
            continue
        for letters_at in candidates:
            letters = "".join(words[j][0] for j in letters_at).upper()
            if hkid_ok(letters, digits[:6], check):
                start = words[letters_at[0]][1]
                spans.append(PiiSpan(start, end, NATIONAL_ID, text[start:end], 0.8, "digits"))
                break
    return spans
