"""What a server process loads before it answers anyone (see create_app's start-up).

Loaded on first use instead, the language pipelines (0.5-1 s each) and the compiled categories were paid by the
first evaluator to open their home page, and by the first chat import, in every server process — and every
request arriving meanwhile queued behind them: 1-4 s answers in the middle of a load test."""

from app.nlp import sentiment
from app.nlp.categories import default_categories
from app.privacy.pipeline import get_ner_nlp


def warm_up() -> None:
    default_categories()  # the full pipeline (lemmas) and the categories' patterns
    get_ner_nlp()  # the detector of personal data in imported texts
    sentiment.analyzer()
