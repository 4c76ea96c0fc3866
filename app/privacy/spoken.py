"""Digit runs in written and spoken text, mapped back to the original characters.

"four one one one, one one one one ..." / "oh seven seven double oh nine ..." / "4111-1111 1111 1111" /
"plus four four seven seven ..." / "九一二三，四五六七" all become a `DigitRun` whose digits keep the character span they came
from, so a detector working on the digits can cite exactly the words that said them.
"""

import re
from dataclasses import dataclass, field

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "nil": "0",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9",
    # frequent ASR slips for digits in fast speech
    "won": "1", "to": "2", "too": "2", "for": "4", "ate": "8",
    # Chinese digits, as a Cantonese or Mandarin transcript writes a number read out ("九一二三，四五六七")
    "零": "0", "〇": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8",
    "九": "9",
}
# ASR homophones only count inside a run that already has real digits on both sides (see _is_weak).
WEAK_DIGIT_WORDS = {"won", "to", "too", "for", "ate"}
REPEATERS = {"double": 2, "triple": 3}
FILLERS = {"uh", "um", "er", "erm", "ah", "then"}  # "four one one one then one one one one ..."
PLUS_WORDS = {"plus", "+"}
TOKEN = re.compile(r"\+|\d+|[A-Za-z]+|[零〇一二三四五六七八九]")
SEPARATOR = re.compile(r"[\s,\-./()，、]*")


@dataclass
class DigitToken:
    digits: str
    start: int
    end: int
    spans: list[tuple[int, int]]  # one (start, end) per digit


@dataclass
class DigitRun:
    tokens: list[DigitToken] = field(default_factory=list)
    plus: bool = False
    plus_start: int | None = None
    token_index: int = 0  # index of the run's first word in the text's word list (for context)

    @property
    def digits(self) -> str:
        return "".join(t.digits for t in self.tokens)

    @property
    def start(self) -> int:
        return self.plus_start if self.plus_start is not None else self.tokens[0].start

    @property
    def end(self) -> int:
        return self.tokens[-1].end

    def window(self, first: int, last: int) -> tuple[str, int, int]:
        """Digits and character span of tokens[first..last] inclusive."""
        chosen = self.tokens[first:last + 1]
        return "".join(t.digits for t in chosen), chosen[0].start, chosen[-1].end


def words_of(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0).lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def digit_runs(text: str, words: list[tuple[str, int, int]] | None = None) -> list[DigitRun]:
    """Every maximal run of digit tokens (digits, digit words, "double X") separated only by spaces or
    light punctuation (and fillers like "uh")."""
    words = words if words is not None else words_of(text)
    runs: list[DigitRun] = []
    current: DigitRun | None = None
    pending_plus: tuple[int, int, int] | None = None  # (word index, char start, char end) of "+"/"plus"
    last_end = -1
    i = 0
    while i < len(words):
        word, start, end = words[i]
        joined = current is not None and _only_separators(text, last_end, start)
        token, consumed = _digit_token(words, i)
        if token is not None and not (token.digits and _is_weak(word, current, joined, words, i + consumed)):
            if current is None or not joined:
                if current is not None:
                    runs.append(current)
                current = DigitRun(token_index=i)
                if pending_plus is not None and pending_plus[0] == i - 1 \
                        and _only_separators(text, pending_plus[2], start):
                    current.plus, current.plus_start = True, pending_plus[1]
            current.tokens.append(token)
            last_end = token.end
            i += consumed
            continue
        if word in FILLERS and current is not None and joined:
            last_end = end
            i += 1
            continue
        if current is not None:
            runs.append(current)
            current = None
        pending_plus = (i, start, end) if word in PLUS_WORDS else None
        i += 1
    if current is not None:
        runs.append(current)
    return runs


def _only_separators(text: str, start: int, end: int) -> bool:
    if end < start:
        return False
    gap = text[start:end]
    return len(gap) <= 4 and SEPARATOR.fullmatch(gap) is not None


def _digit_token(words: list[tuple[str, int, int]], i: int) -> tuple[DigitToken | None, int]:
    word, start, end = words[i]
    if word.isdigit():
        return DigitToken(word, start, end, [(start + k, start + k + 1) for k in range(len(word))]), 1
    if word in DIGIT_WORDS:
        return DigitToken(DIGIT_WORDS[word], start, end, [(start, end)]), 1
    if word in REPEATERS and i + 1 < len(words):
        following, _, next_end = words[i + 1]
        digit = DIGIT_WORDS.get(following) or (following if following.isdigit() and len(following) == 1 else None)
        if digit is not None:
            count = REPEATERS[word]
            return DigitToken(digit * count, start, next_end, [(start, next_end)] * count), 2
    return None, 1


def _is_weak(word: str, current: DigitRun | None, joined: bool, words: list[tuple[str, int, int]],
             next_index: int) -> bool:
    """An ASR homophone ("to", "for") counts as a digit only between digit tokens of the same run."""
    if word not in WEAK_DIGIT_WORDS:
        return False
    if current is None or not joined or len(current.tokens) < 3:
        return True
    if next_index >= len(words):
        return True
    following = words[next_index][0]
    return not (following.isdigit() or (following in DIGIT_WORDS and following not in WEAK_DIGIT_WORDS)
                or following in REPEATERS)


def is_spelled_letter(text: str, words: list[tuple[str, int, int]], j: int) -> bool:
    """A letter said on its own ("A", "P"), not the "s" of "it's"."""
    if j < 0:
        return False
    word, start, _ = words[j]
    return len(word) == 1 and word.isascii() and word.isalpha() and (start == 0 or text[start - 1] not in "'’")


def adjacent(text: str, end: int, start: int) -> bool:
    return 0 <= start - end <= 3 and text[end:start].strip(" ,.-") == ""
