"""Sentiment with VADER (rule-based, English, offline): a compound score in [-1, 1] per segment or
message, rolled up per interaction and per side, and the customer's start vs end.

VADER knows English words only: a Chinese or Cantonese turn (app.core.language.detect_language) gets no
score — "not available" — rather than VADER's 0.0, which would read as "neutral" and pull the roll-ups
towards it. Roll-ups are over the scored turns; an interaction with none has no sentiment."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NEGATIVE_BELOW = -0.05  # VADER's own convention: compound <= -0.05 is negative, >= 0.05 positive
POSITIVE_ABOVE = 0.05


# Contact-centre speech: fillers and politeness that VADER (tuned on social posts) scores as positive
# carry no sentiment in a call ("yeah", "ok", "please", "how can I help"); a few service words do.
DOMAIN_LEXICON = {
    "yeah": 0.0, "yes": 0.0, "no": 0.0, "ok": 0.0, "okay": 0.0, "please": 0.0, "honestly": 0.0, "help": 0.3,
    "sorry": 0.0,  # mostly the agent's apology or "sorry, what was that": empathy is its own category
    "cancel": -1.5, "cancelling": -1.5, "canceling": -1.5, "overcharged": -2.0, "unacceptable": -2.5,
    "refund": -0.5, "escalate": -1.0,
}


@lru_cache(maxsize=1)
def analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(DOMAIN_LEXICON)
    return analyzer


SUPPORTED_LANGUAGES = frozenset({"en"})


def supported(language: str | None) -> bool:
    """Whether VADER can score text in `language` (None: no words of either script, e.g. emoji only)."""
    return language is None or language in SUPPORTED_LANGUAGES


def score(text: str, language: str | None) -> float | None:
    """The compound score, or None ("not available") for a language VADER does not read."""
    return compound(text) if supported(language) else None


def compound(text: str) -> float:
    """VADER compound score of `text` (0.0 for empty text)."""
    if not text.strip():
        return 0.0
    return float(analyzer().polarity_scores(text)["compound"])


def label(score: float | None) -> str:
    if score is None:
        return "none"
    return "negative" if score <= NEGATIVE_BELOW else "positive" if score >= POSITIVE_ABOVE else "neutral"


@dataclass(frozen=True)
class SentimentSummary:
    overall: float | None
    agent: float | None
    customer: float | None
    customer_start: float | None  # mean over the first third of the customer's turns
    customer_end: float | None  # mean over the last third

    @property
    def customer_change(self) -> float | None:
        if self.customer_start is None or self.customer_end is None:
            return None
        return round(self.customer_end - self.customer_start, 4)


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(turns: Sequence[tuple[str, float | None]]) -> SentimentSummary:
    """Roll up (side, compound) turns in time order; side is "agent", "customer" or anything else. Turns
    without a score (not available in their language) are left out."""
    scored = [(side, value) for side, value in turns if value is not None]
    customer = [value for side, value in scored if side == "customer"]
    third = math.ceil(len(customer) / 3) if customer else 0
    return SentimentSummary(
        overall=_mean([value for _, value in scored]),
        agent=_mean([value for side, value in scored if side == "agent"]),
        customer=_mean(customer),
        customer_start=_mean(customer[:third]),
        customer_end=_mean(customer[-third:]) if third else None,
    )
