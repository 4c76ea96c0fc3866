import pytest

from app.core.settings import Settings
from app.core.vocabulary import load_vocabulary, parse_vocabulary


def test_queue_terms_extend_the_deployment_terms_without_repeats() -> None:
    vocabulary = parse_vocabulary("terms: [Kestrel, 5G]\nqueues:\n  hk: [Mong Kok, Kestrel]\n")
    assert vocabulary.for_queue("hk") == ("Kestrel", "5G", "Mong Kok")
    assert vocabulary.for_queue("billing") == ("Kestrel", "5G")
    assert vocabulary.all_terms() == ("Kestrel", "5G", "Mong Kok")


@pytest.mark.parametrize(("text", "path"), [
    ("terms: Kestrel", "terms"),
    ("terms: [Kestrel, '']", "terms"),
    ("queues: [a]", "queues"),
    ("queues: {hk: [1]}", "queues.hk"),
])
def test_invalid_vocabulary_is_refused_with_the_field_path(text: str, path: str) -> None:
    with pytest.raises(ValueError, match=path):
        parse_vocabulary(text)


def test_the_shipped_vocabulary_holds_the_demo_brand(tmp_path) -> None:
    assert "Kestrel" in load_vocabulary(Settings(data_dir=tmp_path)).terms
    own = tmp_path / "vocabulary.yaml"
    own.write_text("terms: [Acme]\n")
    assert load_vocabulary(Settings(data_dir=tmp_path, vocabulary_file=own)).terms == ("Acme",)
