"""A server process loads its language models before it answers anyone: loaded on first use, they cost the first
evaluator's home page (and the first chat import) 0.5-1 s in each process, and queued every request behind it."""

from fastapi.testclient import TestClient

from app.main import create_app
from app.nlp import categories, sentiment
from app.privacy import pipeline
from tests.conftest import make_settings


def test_the_models_are_loaded_at_start_up(tmp_path):
    for cached in (categories.default_categories, pipeline._load, sentiment.analyzer):
        cached.cache_clear()
    app = create_app(make_settings(tmp_path))
    assert pipeline._load.cache_info().currsize == 0  # building the app loads nothing (tests build thousands)
    with TestClient(app):
        assert categories.default_categories.cache_info().currsize == 1
        assert pipeline._load.cache_info().currsize == 2  # the full pipeline and the entities-only one
        assert sentiment.analyzer.cache_info().currsize == 1
