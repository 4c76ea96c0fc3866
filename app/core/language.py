"""Script-level text helpers for Chinese (Cantonese and Mandarin, Traditional and Simplified) beside English.

Two jobs, both offline and deterministic:

- **Folding for search** (`fold`, `index_text`): Chinese is written without spaces, so a word index has no
  words to find. `index_text` folds Traditional characters (Hong Kong and standard forms) to Simplified with
  OpenCC's `hk2s` table, fullwidth ASCII to ASCII, drops CJK punctuation, and writes each run of Han/kana
  characters as its characters and overlapping pairs (旺角斷線 → 旺 旺角 角 角断 断 断线 线). A query is
  folded the same way: a 1-character word is its token, a 2-character word its pair token, a longer run
  the phrase of its tokens, so any run is found exactly (斷線, 断线 and 斷綫 alike) and the common
  2-character words cost one index lookup, like an English word. Latin words are left to the database.
- **Language of a text** (`detect_language`): counts script, not words — Han characters against Latin
  words. "yue" (Cantonese) when Han text carries a Cantonese-only particle or word (嘅 咗 唔 喺 ...),
  "zh" (Chinese, variety not told) otherwise, "en" for Latin text. It cannot tell English from other
  Latin-script languages, nor Cantonese written in standard Chinese from Mandarin: it is a script
  heuristic, stated as such wherever it is shown.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Han (CJK Unified Ideographs, extension A, compatibility, extensions B-F in the supplementary planes) and kana
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_KANA = "\u3040-\u30ff"
CJK_CHAR = re.compile(f"[{_HAN}{_KANA}]")
_CJK_RUN = re.compile(f"[{_HAN}{_KANA}]+")
_CJK_GAP = re.compile(f"(?<=[{_HAN}{_KANA}])[ \\t]+(?=[{_HAN}{_KANA}])")  # spaces between two CJK characters
# CJK symbols and punctuation (、。「」…) and the fullwidth forms that are not letters or digits
_CJK_PUNCT = re.compile("[\u3000-\u303f\u30fb\ufe30-\ufe4f\uff5f-\uff65]")
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # ！..～ → !..~
# Simplified characters that OpenCC keeps apart but everyday writing uses for the same word: 帳單 (HK) converts
# to 帐单 while Simplified text writes 账单 (賬單). Folded one way, so the search finds both.
_VARIANTS = str.maketrans({"帐": "账"})
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# words and particles written in Cantonese but not in standard (Mandarin-based) written Chinese
CANTONESE_MARKERS = re.compile("[嘅咗喺冇嘢啲佢哋嚟咩嗰噉乜睇諗攞俾畀咁啱嘥喇囉啩喎㗎吖]|唔|係唔係|點解|邊度|而家|宜家|依家|唔該|多謝晒")


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # a registry package (OpenCC, Apache-2.0) with its conversion tables inside: nothing downloads

    return opencc.OpenCC("hk2s")


def has_cjk(text: str) -> bool:
    return CJK_CHAR.search(text) is not None


def fold(text: str) -> str:
    """Fullwidth ASCII to ASCII and Traditional Chinese to Simplified (OpenCC hk2s, which also knows the
    Hong Kong forms such as 綫). Latin text is returned unchanged (apart from fullwidth forms)."""
    text = text.translate(_FULLWIDTH)
    if not has_cjk(text):
        return text
    converted = str(_converter().convert(text))
    return converted.translate(_VARIANTS)


def run_tokens(run: str) -> list[str]:
    """The index tokens of a run of CJK characters x1..xn: each character and each adjacent pair, in text
    order — x1 x1x2 x2 x2x3 x3 ... xn. A 2-character word is then one token (as fast to find as an English
    word); a longer one is a phrase of these tokens; one character is its own token."""
    tokens = [run[0]]
    for previous, current in zip(run, run[1:], strict=False):
        tokens += [previous + current, current]
    return tokens


def index_text(text: str) -> str:
    """The text the full-text index sees: folded, CJK punctuation removed, spaces between CJK characters
    removed, each run of CJK characters replaced by its `run_tokens` (space-separated), Latin text left to
    the database's tokenizer."""
    folded = fold(text)
    if not has_cjk(folded):
        return folded
    # Chinese is written without spaces; a transcript's spaces between words must not split a run, but a
    # line break (between messages) or CJK punctuation (turned into one) does
    joined = _CJK_GAP.sub("", _CJK_PUNCT.sub("\n", folded))
    return _CJK_RUN.sub(lambda m: " " + " ".join(run_tokens(m.group(0))) + " ", joined)


def fold_aligned(text: str) -> str:
    """`fold` keeping every character at its position (for highlighting matches in the original text):
    the whole-text conversion when it keeps the length (nearly always), else character by character."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join(fold(ch) if len(fold(ch)) == 1 else ch for ch in text)


# ---------------------------------------------------------------- language of a text


@dataclass(frozen=True)
class LanguageGuess:
    code: str | None  # "yue" | "zh" | "en" | None (nothing to tell from: numbers, emoji, empty)
    mixed: bool  # both scripts present in a real amount (code-switching, e.g. "部router又斷線")
    han_chars: int
    latin_words: int


def detect_language(text: str) -> LanguageGuess:
    """The main language of `text` by script (see the module docstring for what it can and cannot tell).

    A Han character weighs as one word: a message is Chinese when it has at least as many Han characters
    as Latin words, and `mixed` when the smaller side is at least a fifth of the larger and two or more."""
    han = sum(1 for ch in text if CJK_CHAR.match(ch))
    latin = len(_LATIN_WORD.findall(text))
    if not han and not latin:
        return LanguageGuess(None, False, 0, 0)
    small, large = sorted((han, latin))
    mixed = small >= 2 and small * 5 >= large
    code = ("yue" if CANTONESE_MARKERS.search(text) else "zh") if han >= latin else "en"
    return LanguageGuess(code, mixed, han, latin)


def is_chinese(code: str | None) -> bool:
    return code in {"yue", "zh"}
