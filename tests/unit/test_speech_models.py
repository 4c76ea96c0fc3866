"""Model choice and the base model's one-time join: verified, atomic, refused when the hash differs."""

import hashlib
import json

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
    vocabulary.write_text("terms: [Kestrel Telecom, 旺角]\nqueues:\n  hk-care: [Mong Kok, 斷線]\n  es-care: [Kestrel]\n")
    settings = Settings(_env_file=None, data_dir=tmp_path, vocabulary_file=vocabulary,
                        speech_queue_languages={"hk-care": "zh", "es-care": "es"})
    billing = engine.decoding_options(settings, queue="Billing")
    assert billing.language == "en" and billing.initial_prompt == "Kestrel Telecom."
    assert billing.hallucination_silence_threshold == 2.0
    # an English prompt on a Chinese queue made base write the prompt out as the transcript, and so did a
    # prompt of the Chinese entries: other languages get no prompt
    hk = engine.decoding_options(settings, queue="hk-care")
    assert hk.language == "zh" and hk.initial_prompt is None
    spanish = engine.decoding_options(settings, queue="es-care")
    assert spanish.language == "es" and spanish.initial_prompt is None


def test_an_english_only_vocabulary_gives_a_chinese_queue_no_prompt(tmp_path):
    vocabulary = tmp_path / "vocabulary.yaml"
    vocabulary.write_text("terms: [Kestrel Telecom, Mong Kok, 5G]\n")
    settings = Settings(_env_file=None, data_dir=tmp_path, vocabulary_file=vocabulary,
                        speech_language="zh")
    options = engine.decoding_options(settings, queue=None)
    assert options.language == "zh" and options.initial_prompt is None


def _model_dir(tmp_path, name: str, languages: list[str]):
    directory = tmp_path / name
    directory.mkdir()
    added = [{"id": i, "content": token} for i, token in
             enumerate(["<|endoftext|>", "<|startoftranscript|>", *(f"<|{code}|>" for code in languages),
                        "<|translate|>", "<|notimestamps|>"])]
    (directory / "tokenizer.json").write_text(json.dumps({"added_tokens": added}))
    return directory


def test_cantonese_is_refused_for_a_model_without_its_token(tmp_path):
    # Whisper base's own tokenizer (from its package) has <|zh|> but no <|yue|>
    base = Settings(_env_file=None, data_dir=tmp_path, speech_queue_languages={"hk-care": "yue", "cn": "zh"})
    assert engine.queue_language(base, "cn") == "zh"
    with pytest.raises(engine.LanguageUnsupported, match=r"no <\|yue\|> token.*\"zh\".*large-v3"):
        engine.queue_language(base, "hk-care")
    with pytest.raises(engine.LanguageUnsupported):
        engine.decoding_options(base, queue="hk-care")
    assert [p.split(" is set")[0] for p in engine.check_languages(base)] == ["queue hk-care"]
    # a large-v3 directory has the token: the same setting is accepted
    large = _model_dir(tmp_path, "faster-whisper-large-v3", ["en", "zh", "yue"])
    large_v3 = Settings(_env_file=None, data_dir=tmp_path, speech_model_path=large,
                        speech_queue_languages={"hk-care": "yue"})
    assert engine.queue_language(large_v3, "hk-care") == "yue"
    assert engine.check_languages(large_v3) == []
    older = _model_dir(tmp_path, "faster-whisper-medium", ["en", "zh"])
    medium = Settings(_env_file=None, data_dir=tmp_path, speech_model_path=older,
                      speech_queue_languages={"hk-care": "yue"})
    assert "faster-whisper-medium has no <|yue|> token" in engine.check_languages(medium)[0]


def test_the_worker_refuses_to_start_with_a_language_the_model_lacks(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli

    monkeypatch.setenv("EARSHOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EARSHOT_SPEECH_QUEUE_LANGUAGES", '{"hk-care": "yue"}')
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "queue hk-care is set to language 'yue'" in result.output


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
