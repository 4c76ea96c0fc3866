"""Model choice and the base model's one-time join: verified, atomic, refused when the hash differs."""

import hashlib

import pytest

from app.core.settings import Settings
from app.speech import engine


def _parts(tmp_path, payload: bytes):
    source = tmp_path / "packages"
    source.mkdir()
    first, second = source / "model.bin.part1", source / "model.bin.part2"
    first.write_bytes(payload[:7])
    second.write_bytes(payload[7:])
    extras = []
    for name in engine.MODEL_FILES:
        (source / name).write_text(f"{name} contents")
        extras.append(source / name)
    return [first, second], extras


def test_join_writes_the_verified_model_directory(tmp_path):
    payload = b"not really a model, but joined in order"
    parts, extras = _parts(tmp_path, payload)
    target = tmp_path / "cache" / "whisper-x"
    result = engine.join_model(parts=parts, extras=extras, target=target, sha256=hashlib.sha256(payload).hexdigest())
    assert result == target
    assert (target / "model.bin").read_bytes() == payload
    assert (target / "tokenizer.json").read_text() == "tokenizer.json contents"
    assert [p.name for p in target.parent.iterdir()] == ["whisper-x"]  # the temporary copy is gone


def test_a_wrong_hash_is_refused_and_leaves_nothing_loadable(tmp_path):
    parts, extras = _parts(tmp_path, b"tampered weights, twice the fun")
    target = tmp_path / "cache" / "whisper-x"
    with pytest.raises(engine.ModelUnavailable, match="expected " + "ab" * 32):
        engine.join_model(parts=parts, extras=extras, target=target, sha256="ab" * 32)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no half-written file anywhere


def test_a_missing_part_is_a_clear_error(tmp_path):
    parts, extras = _parts(tmp_path, b"0123456789abcdef")
    parts[1].unlink()
    with pytest.raises(engine.ModelUnavailable, match="model.bin.part2"):
        engine.join_model(parts=parts, extras=extras, target=tmp_path / "t", sha256="00" * 32)


def test_a_finished_join_is_reused_without_reading_the_packages(tmp_path, monkeypatch):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    done = tmp_path / "models" / f"whisper-base-{engine.BASE_SHA256[:12]}"
    done.mkdir(parents=True)
    (done / "model.bin").write_bytes(b"x")
    monkeypatch.setattr(engine, "_package_data", lambda module: pytest.fail("joined again"))
    assert engine.model_path(settings) == done


def test_model_choice_and_profiles(tmp_path):
    base = Settings(_env_file=None, data_dir=tmp_path)
    tiny = Settings(_env_file=None, data_dir=tmp_path, speech_model="tiny.en")
    custom = Settings(_env_file=None, data_dir=tmp_path, speech_model_path=tmp_path / "faster-whisper-small.en")
    assert engine.model_name(base) == "whisper-base" and engine.profile(base).hallucination_silence_threshold == 2.0
    assert engine.model_name(tiny) == "tiny.en" and engine.profile(tiny).hallucination_silence_threshold is None
    assert (engine.model_path(tiny) / "model.bin").is_file()
    assert engine.model_path(custom) == tmp_path / "faster-whisper-small.en"
    assert not engine.profile(custom).multilingual
    with pytest.raises(ValueError, match="speech_model"):
        Settings(_env_file=None, speech_model="large")


def test_queue_language_and_vocabulary_reach_the_decoder(tmp_path):
    vocabulary = tmp_path / "vocabulary.yaml"
    vocabulary.write_text("terms: [Kestrel Telecom]\nqueues:\n  hk-care: [Mong Kok]\n")
    settings = Settings(_env_file=None, data_dir=tmp_path, vocabulary_file=vocabulary,
                        speech_queue_languages={"hk-care": "zh"})
    hk = engine.decoding_options(settings, queue="hk-care")
    assert hk.language == "zh" and hk.initial_prompt == "Kestrel Telecom, Mong Kok."
    billing = engine.decoding_options(settings, queue="Billing")
    assert billing.language == "en" and billing.initial_prompt == "Kestrel Telecom."
    assert billing.hallucination_silence_threshold == 2.0


def test_unusable_queue_languages_are_refused(tmp_path):
    wrong = Settings(_env_file=None, data_dir=tmp_path, speech_queue_languages={"hk-care": "chinese"})
    with pytest.raises(engine.LanguageUnsupported, match="not a Whisper language"):
        engine.queue_language(wrong, "hk-care")
    english_only = Settings(_env_file=None, data_dir=tmp_path, speech_model="tiny.en",
                            speech_queue_languages={"hk-care": "zh"})
    with pytest.raises(engine.LanguageUnsupported, match="English-only"):
        engine.queue_language(english_only, "hk-care")
    assert engine.queue_language(english_only, "Billing") == "en"


def test_the_light_model_gets_no_vocabulary_prompt(tmp_path):
    # tiny.en hallucinated "Thank you for watching" after a pause whenever it was given a prompt
    settings = Settings(_env_file=None, data_dir=tmp_path, speech_model="tiny.en")
    assert engine.decoding_options(settings, queue=None).initial_prompt is None
