"""Category rules from YAML, matched with spaCy's Matcher on lowercased lemmas."""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.util import filter_spans

from app.nlp.pipeline import get_nlp

CATEGORIES_FILE = Path(__file__).with_name("categories.yaml")
LEMMA_ATTR = "earshot_lemma"
GAP = "..."

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

    def match(self, doc: Doc) -> list[CategoryHit]:
        """Hits in `doc`; within one category overlapping matches keep the longest."""
        by_category: dict[str, list[tuple[Any, str]]] = {}
        for match_id, start, end in self.matcher(doc):
            category, phrase = self.keys[doc.vocab.strings[match_id]]
            by_category.setdefault(category, []).append((doc[start:end], phrase))
        hits = []
        for category, found in by_category.items():
            phrases = {(span.start, span.end): phrase for span, phrase in found}
            for span in filter_spans([span for span, _ in found]):
                hits.append(CategoryHit(category, phrases.get((span.start, span.end), ""), span.start_char,
                                        span.end_char, span.text))
        return sorted(hits, key=lambda h: (h.start_char, h.category))


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
    for rule in rules:
        named = [(phrase, phrase_pattern(nlp, phrase)) for phrase in rule.phrases]
        named += [(f"pattern {i + 1}", pattern) for i, pattern in enumerate(rule.patterns)]
        for index, (phrase, pattern) in enumerate(named):
            key = f"nlp-category:{rule.name}:{index}"
            keys[key] = (rule.name, phrase)
            matcher.add(key, [pattern])
    return CategorySet(rules={r.name: r for r in rules}, matcher=matcher, keys=keys)


def load_rules(path: Path = CATEGORIES_FILE) -> list[CategoryRule]:
    return [CategoryRule.model_validate(item) for item in yaml.safe_load(path.read_text()) or []]


@lru_cache(maxsize=4)
def default_categories(path: Path = CATEGORIES_FILE) -> CategorySet:
    """The shipped categories, compiled once per process."""
    return build_categories(load_rules(path))
