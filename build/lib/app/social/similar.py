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


SparseVector = dict[str, float]


def idf_of(term_counts: list[Counter[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency: log((1 + n) / (1 + df)) + 1."""
    df: Counter[str] = Counter()
    for counts in term_counts:
        df.update(counts.keys())
    n = len(term_counts)
    return {term: math.log((1 + n) / (1 + d)) + 1.0 for term, d in df.items()}


def tfidf_vector(counts: Counter[str], idf: dict[str, float]) -> SparseVector:
    """Sublinear tf × idf, L2-normalised, kept sparse (only the document's own terms)."""
    vector = {term: (1.0 + math.log(count)) * idf.get(term, 1.0) for term, count in counts.items()}
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {term: v / norm for term, v in vector.items()} if norm else vector


def dot(a: SparseVector, b: SparseVector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(term, 0.0) for term, v in a.items())


def cosine_matrix(texts: list[str]) -> tuple[np.ndarray, list[Counter[str]]]:
    """Pairwise TF-IDF cosine similarity of `texts` (and their term counts, for explanations)."""
    counts = [Counter(terms(t)) for t in texts]
    idf = idf_of(counts)
    vectors = [tfidf_vector(c, idf) for c in counts]
    matrix = np.zeros((len(texts), len(texts)))
    for i in range(len(texts)):
        for j in range(i, len(texts)):
            matrix[i, j] = matrix[j, i] = dot(vectors[i], vectors[j])
    return matrix, counts


def rank_similar(query: str, documents: list[str], *, min_score: float = 0.2, top_terms: int = 6) -> list[Match]:
    """Documents similar to `query`, best first, with the shared terms that explain each match.

    Vectors stay sparse, so memory grows with the words in the documents, not documents × vocabulary.
    """
    query_terms = Counter(terms(query))
    if not query_terms or not documents:
        return []
    doc_terms = [Counter(terms(d)) for d in documents]
    idf = idf_of([query_terms, *doc_terms])
    q = tfidf_vector(query_terms, idf)
    scored = []
    for index, counts in enumerate(doc_terms):
        if not counts.keys() & q.keys():
            continue
        vector = tfidf_vector(counts, idf)
        score = dot(q, vector)
        if score >= min_score:
            shared = sorted((t for t in q if t in vector), key=lambda t: -(q[t] * vector[t]))
            scored.append(Match(index=index, score=round(score, 4), shared_terms=shared[:top_terms]))
    return sorted(scored, key=lambda m: (-m.score, m.index))


@dataclass
class Cluster:
    members: list[int]
    centroid: SparseVector
    label_terms: list[str]


def cluster_texts(texts: list[str], *, min_similarity: float = 0.3, min_size: int = 2,
                  label_size: int = 4) -> list[Cluster]:
    """Topic clusters, one pass ("leader" clustering): each text joins the cluster whose centroid it is most
    similar to (cosine ≥ `min_similarity`), else starts its own. Biggest clusters first; labels are the
    centroid's strongest terms."""
    counts = [Counter(terms(t)) for t in texts]
    idf = idf_of(counts)
    clusters: list[tuple[list[int], dict[str, float]]] = []  # members, summed vectors
    for index, c in enumerate(counts):
        vector = tfidf_vector(c, idf)
        if not vector:
            continue
        best, best_score = -1, min_similarity
        for position, (_, summed) in enumerate(clusters):
            norm = math.sqrt(sum(v * v for v in summed.values()))
            score = dot(vector, summed) / norm if norm else 0.0
            if score >= best_score:
                best, best_score = position, score
        if best < 0:
            clusters.append(([index], dict(vector)))
        else:
            members, summed = clusters[best]
            members.append(index)
            for term, value in vector.items():
                summed[term] = summed.get(term, 0.0) + value
    out = []
    for members, summed in clusters:
        if len(members) < min_size:
            continue
        norm = math.sqrt(sum(v * v for v in summed.values()))
        centroid = {t: v / norm for t, v in summed.items()}
        label = [t for t, _ in sorted(centroid.items(), key=lambda kv: (-kv[1], kv[0]))[:label_size]]
        out.append(Cluster(members=members, centroid=centroid, label_terms=label))
    return sorted(out, key=lambda c: (-len(c.members), c.label_terms))
