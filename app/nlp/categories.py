"""Category rules from YAML, matched with spaCy's Matcher on lowercased lemmas — or, for a phrase written
in Chinese, on characters.

English has lemmas; Chinese has no spaces and no inflection, and spaCy's English tokenizer sees a whole
Chinese sentence as one token. So a phrase containing Chinese characters is matched as a character
sequence in the text folded like search does (app.core.language.fold: Traditional and Hong Kong forms to
Simplified, fullwidth to ASCII), so 取消合約, 取消合约 and 取消 合約 (a transcript's spaces) are one phrase.
"..." in such a phrase stands for up to CJK_GAP characters within the sentence (取消...合約 finds
取消部電話嘅合約). Latin words inside a Chinese phrase match case-insensitively, as written (no lemma).
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.util import filter_spans

from app.core.language import fold, fold_aligned, has_cjk
from app.privacy.pipeline import get_nlp

CATEGORIES_FILE = Path(__file__).with_name("categories.yaml")
LEMMA_ATTR = "earshot_lemma"
GAP = "..."
CJK_GAP = 6
_SENTENCE_END = "。！？!?\n"

if not Token.has_extension(LEMMA_ATTR):
    Token.set_extension(LEMMA_ATTR, getter=lambda token: token.lemma_.lower())


class CategoryRule(BaseModel):
    name: str
    label: str = ""
    side: str = "any"
    phrases: list[str] = []
    patterns: list[list[dict[str, Any]]] = []


@dataclass(frozen=True)
class CategoryHit:
    category: str
    phrase: str  # the rule phrase (or "pattern N") that matched
    start_char: int
    end_char: int
    text: str


@dataclass
class CategorySet:
    rules: dict[str, CategoryRule]
    matcher: Matcher
    keys: dict[str, tuple[str, str]]  # matcher key -> (category, phrase)
    chinese: list[tuple[str, str, re.Pattern[str]]] = field(default_factory=list)  # (category, phrase, regex)

    def match(self, doc: Doc) -> list[CategoryHit]:
        """Hits in `doc`; within one category overlapping matches keep the longest."""
        by_category: dict[str, list[tuple[Any, str]]] = {}
        for match_id, start, end in self.matcher(doc) if len(self.matcher) else []:
            category, phrase = self.keys[doc.vocab.strings[match_id]]
            by_category.setdefault(category, []).append((doc[start:end], phrase))
        hits = []
        for category, found in by_category.items():
            phrases = {(span.start, span.end): phrase for span, phrase in found}
            for span in filter_spans([span for span, _ in found]):
                hits.append(CategoryHit(category, phrases.get((span.start, span.end), ""), span.start_char,
                                        span.end_char, span.text))
        if self.chinese and has_cjk(doc.text):
            hits += self._match_chinese(doc.text, {(h.category, h.start_char, h.end_char) for h in hits})
        return sorted(hits, key=lambda h: (h.start_char, h.category))

    def _match_chinese(self, text: str, taken: set[tuple[str, int, int]]) -> list[CategoryHit]:
        folded = fold_aligned(text)  # same length as `text`: offsets carry over
        found: dict[str, list[CategoryHit]] = {}
        for category, phrase, regex in self.chinese:
            for m in regex.finditer(folded):
                found.setdefault(category, []).append(
                    CategoryHit(category, phrase, m.start(), m.end(), text[m.start():m.end()]))
        kept: list[CategoryHit] = []
        for category, candidates in found.items():
            chosen: list[CategoryHit] = []  # longest first; drop any overlapping a kept one
            for hit in sorted(candidates, key=lambda h: (h.start_char - h.end_char, h.start_char)):
                if all(hit.end_char <= c.start_char or hit.start_char >= c.end_char for c in chosen):
                    chosen.append(hit)
            kept += [h for h in chosen if (category, h.start_char, h.end_char) not in taken]
        return kept


def chinese_pattern(phrase: str) -> re.Pattern[str]:
    """A phrase with Chinese characters as a regex over folded text: characters in order, optional spaces
    between them (transcripts put spaces between words), "..." as up to CJK_GAP characters of the sentence."""
    chunks = []
    for chunk in fold(phrase).split(GAP):
        letters = [ch for ch in chunk if not ch.isspace()]
        if letters:
            chunks.append(r"\s*".join(re.escape(ch) for ch in letters))
    gap = rf"[^{_SENTENCE_END}]{{0,{CJK_GAP}}}?"
    return re.compile(gap.join(chunks), re.IGNORECASE)


def phrase_pattern(nlp: Language, phrase: str) -> list[dict[str, Any]]:
    """A Matcher pattern for `phrase`: each word by its lowercased lemma, "..." as up to two words."""
    pattern: list[dict[str, Any]] = []
    for chunk_index, chunk in enumerate(phrase.split(GAP)):
        if chunk_index:
            pattern.append({"OP": "{0,2}"})
        if chunk.strip():
            pattern.extend({"_": {LEMMA_ATTR: token.lemma_.lower()}} for token in nlp(chunk.strip()))
    return pattern


def build_categories(rules: list[CategoryRule], nlp: Language | None = None) -> CategorySet:
    nlp = nlp or get_nlp()
    matcher = Matcher(nlp.vocab)
    keys: dict[str, tuple[str, str]] = {}
    chinese: list[tuple[str, str, re.Pattern[str]]] = []
    for rule in rules:
        chinese += [(rule.name, phrase, chinese_pattern(phrase)) for phrase in rule.phrases if has_cjk(phrase)]
        named = [(phrase, phrase_pattern(nlp, phrase)) for phrase in rule.phrases if not has_cjk(phrase)]
        named += [(f"pattern {i + 1}", pattern) for i, pattern in enumerate(rule.patterns)]
        for index, (phrase, pattern) in enumerate(named):
            key = f"nlp-category:{rule.name}:{index}"
            keys[key] = (rule.name, phrase)
            matcher.add(key, [pattern])
    return CategorySet(rules={r.name: r for r in rules}, matcher=matcher, keys=keys, chinese=chinese)


def load_rules(path: Path = CATEGORIES_FILE) -> list[CategoryRule]:
    return [CategoryRule.model_validate(item) for item in yaml.safe_load(path.read_text()) or []]


@lru_cache(maxsize=4)
def default_categories(path: Path = CATEGORIES_FILE) -> CategorySet:
    """The shipped categories, compiled once per process."""
    return build_categories(load_rules(path))
