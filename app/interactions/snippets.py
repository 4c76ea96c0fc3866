"""Search result snippets: an escaped excerpt of a document around the first match, every match of the query's
words marked (a Latin word by its stem, a Chinese string exactly, Traditional text for a Simplified query)."""

import functools
import re

from markupsafe import Markup, escape

from app.core.language import CJK_CHAR, fold_aligned, has_cjk

_LATIN_LETTER = "[^\\W" + CJK_CHAR.pattern[1:-1] + "]"  # a word character that is not Chinese or kana


def _pattern(words: list[str]) -> re.Pattern[str]:
    """Matches of highlight words in folded text: a Latin word by its stem at the start of a Latin word (a
    Chinese character next to it is a boundary, as in "部router"), a Chinese string exactly."""
    return _compiled_pattern(tuple(words))


@functools.lru_cache(maxsize=256)
def _compiled_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # cached here: a page builds one snippet per hit with the same words, and the pattern's character
    # classes (every Chinese character) make compiling it cost more than matching it; re's own cache is
    # shared with every other regex in the process and was seen missing
    stems = sorted({re.escape(_stem(w)) for w in words if w and not has_cjk(w)}, key=len, reverse=True)
    chinese = sorted({re.escape(w) for w in words if w and has_cjk(w)}, key=len, reverse=True)
    alternatives = ["(?:" + "|".join(chinese) + ")"] if chinese else []
    if stems:
        alternatives.append(rf"(?<!{_LATIN_LETTER})(?:" + "|".join(stems) + rf"){_LATIN_LETTER}*")
    return re.compile("|".join(alternatives), re.IGNORECASE)


_SUFFIXES = ("ing", "ed", "es", "s", "ly")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def make_snippet(text: str, words: list[str], *, width: int = 220) -> Markup:
    """An escaped excerpt of `text` around the first match, with every match wrapped in <mark>.

    The text is escaped before any markup is added, so the result is safe to render as HTML."""
    if not text:
        return Markup("")
    pattern = _pattern(words) if any(words) else None
    folded = fold_aligned(text) if pattern else text  # Traditional/fullwidth text marked for a Simplified query
    first = pattern.search(folded) if pattern else None
    start = max(0, (first.start() if first else 0) - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    excerpt = text[start:start + width]
    out: list[str] = ["…" if start else ""]
    position = 0
    if pattern:
        for match in pattern.finditer(folded[start:start + width]):
            out.append(str(escape(excerpt[position:match.start()])))
            out.append(f"<mark>{escape(excerpt[match.start():match.end()])}</mark>")
            position = match.end()
    out.append(str(escape(excerpt[position:])))
    if start + width < len(text):
        out.append("…")
    return Markup("".join(out).replace("\n", " "))  # noqa: S704 - every piece above is escaped
