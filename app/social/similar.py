"""Text similarity that runs offline: a small TF-IDF with cosine similarity, in numpy.

Documents are lower-cased, split into words, stripped of English stop words and of a plural/verb "s";
weights are sublinear term frequency × smoothed IDF over the candidate set plus the query; the
explanation of a match is the terms both texts share, strongest first.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

_STOP_WORDS_TEXT = """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her here
hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off
on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves hi hello hey thanks thank please
get got still yet really today yesterday since ever even one us im ive dont cant wont didnt doesnt isnt
let know like just need want ok okay yes yeah sorry help dm message team can't don't i'm i've won't
keep keeps kept every new say says said tell told anyone someone
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def stem(word: str) -> str:
    """A deliberately tiny stemmer: enough to match 'outages' with 'outage' and 'charged' with 'charge'."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    return word[:-1] if word.endswith("e") and len(word) >= 5 else word


def terms(text: str) -> list[str]:
    words = WORD.findall(text.lower())
    return [stem(w) for w in words if w not in STOP_WORDS and len(w) > 2 and not w.isdigit()]


@dataclass(frozen=True)
class Match:
    index: int
    score: float
    shared_terms: list[str]


def rank_similar(query: str, documents: list[str], *, min_score: float = 0.2, top_terms: int = 6) -> list[Match]:
    """Documents similar to `query`, best first, with the shared terms that explain each match."""
    query_terms = Counter(terms(query))
    if not query_terms or not documents:
        return []
    doc_terms = [Counter(terms(d)) for d in documents]
    vocabulary = sorted(set(query_terms).union(*doc_terms))
    position = {t: i for i, t in enumerate(vocabulary)}
    n = len(documents) + 1
    df = np.zeros(len(vocabulary))
    for counts in [query_terms, *doc_terms]:
        for term in counts:
            df[position[term]] += 1
    idf = np.log((1 + n) / (1 + df)) + 1.0

    def vector(counts: Counter[str]) -> np.ndarray:
        v = np.zeros(len(vocabulary))
        for term, count in counts.items():
            v[position[term]] = 1.0 + math.log(count)
        v *= idf
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    q = vector(query_terms)
    matrix = np.vstack([vector(c) for c in doc_terms])
    scores = matrix @ q
    matches = []
    for index in np.argsort(-scores):
        score = float(scores[index])
        if score < min_score:
            break
        shared = sorted((t for t in query_terms if t in doc_terms[index]),
                        key=lambda t: -(q[position[t]] * matrix[index, position[t]]))
        matches.append(Match(index=int(index), score=round(score, 4), shared_terms=shared[:top_terms]))
    return matches
