"""Turn grouping and talk metrics on synthetic word timings (no model, no database)."""

import pytest

from app.speech.audio import AudioInfo
from app.speech.metrics import compute_metrics, count_interruptions, gaps, intersect, merge_intervals
from app.speech.pipeline import build_transcript, channel_roles, redacted_words
from app.speech.turns import TimedWord, drop_stacked_words, group_turns, repair_stray_words


def said(speaker: str, text: str, start: float, *, step: float = 0.4, segment: int = 0) -> list[TimedWord]:
    """One word every `step` seconds, each lasting 0.3 s."""
    channel = {"agent": 0, "customer": 1}.get(speaker)
    return [TimedWord(text=" " + w, start=start + i * step, end=start + i * step + 0.3, speaker=speaker,
                      channel=channel, segment=segment) for i, w in enumerate(text.split())]


def test_turns_follow_time_order_across_channels():
    # per-channel transcription gives all agent words first; sorting by time restores the conversation
    agent = said("agent", "hello how can I help", 0.0) + said("agent", "sure let me check", 6.0)
    customer = said("customer", "my bill is wrong", 2.5) + said("customer", "thanks", 8.0)
    turns = group_turns(agent + customer)
    assert [(t.speaker, t.text) for t in turns] == [
        ("agent", "hello how can I help"), ("customer", "my bill is wrong"),
        ("agent", "sure let me check"), ("customer", "thanks")]
    assert turns[1].start == 2.5 and turns[0].channel == 0 and turns[1].channel == 1


def test_chinese_lines_are_written_without_spaces_between_characters():
    # Whisper gives Chinese "words" one or two characters at a time, without the leading space of English ones
    pieces = ["你", "好，", "我", "部", " router", "喺", "旺角", "斷", "線", "。", " OK", " thanks"]
    words = [TimedWord(text=p, start=i * 0.2, end=i * 0.2 + 0.1, speaker="customer", channel=1)
             for i, p in enumerate(pieces)]
    assert [t.text for t in group_turns(words)] == ["你好，我部router喺旺角斷線。OK thanks"]
    transcript = build_transcript(words, info=AudioInfo(format="wav", channels=2, sample_rate=16000,
                                                        duration_seconds=3.0), duration=3.0, separation="channels")
    assert [line.text for line in transcript.lines] == ["你好，我部router喺旺角斷線。OK thanks"]


def test_stray_last_word_is_put_back_after_its_sentence():
    words = said("customer", "the new one won't", 4.0) + [
        TimedWord(" connect.", 19.8, 20.1, speaker="customer", channel=1),
        TimedWord(" Thanks,", 20.2, 20.5, speaker="customer", channel=1)]
    repaired = repair_stray_words(words)
    assert (repaired[3].start, repaired[3].end) == (words[3].start, pytest.approx(words[3].start + 0.15))
    assert (repaired[4].start, repaired[4].end) == (pytest.approx(words[3].start + 0.15), words[3].end)
    assert repaired[5] == words[5]
    # a real pause inside a sentence followed by more words is left alone
    paused = said("agent", "let me check", 0.0) + [TimedWord(" okay", 5.0, 5.3, speaker="agent", channel=0)]
    assert repair_stray_words(paused) == paused


def test_long_pause_starts_a_new_turn_of_the_same_speaker():
    words = said("agent", "one moment please", 0.0) + said("agent", "thanks for holding", 30.0)
    assert [t.text for t in group_turns(words)] == ["one moment please", "thanks for holding"]


def test_mono_turns_follow_recogniser_segments():
    words = said("unknown", "hello there", 0.0, segment=0) + said("unknown", "hi", 1.0, segment=1)
    assert [t.text for t in group_turns(words)] == ["hello there", "hi"]


def test_interval_helpers():
    assert merge_intervals([(3, 4), (0, 1), (1.2, 2)], bridge=0.5) == [(0, 2), (3, 4)]
    assert intersect([(0, 2), (3, 5)], [(1, 4)]) == [(1, 2), (3, 4)]
    assert gaps([(1, 2), (3, 4)], duration=6) == [(0, 1), (2, 3), (4, 6)]
    assert count_interruptions([(2, 3)], [(0, 5)]) == 1
    assert count_interruptions([(4.8, 6)], [(0, 5)]) == 0  # the other side was finishing anyway


def test_metrics_of_a_simple_call():
    # agent talks 0-1.9 (5 words), customer 3-3.7 (2 words), then 25 s of silence, agent 30-31.1 (3 words)
    words = said("agent", "a b c d e", 0.0) + said("customer", "f g", 3.0) + said("agent", "h i j", 30.0)
    m = compute_metrics(words, duration=32.0, hold_seconds=20.0)
    assert m.agent_talk_seconds == pytest.approx(1.9 + 1.1)
    assert m.customer_talk_seconds == pytest.approx(0.7)
    assert m.agent_talk_ratio == pytest.approx(3.0 / 3.7, abs=1e-3)
    assert m.silence_longest_seconds == pytest.approx(30.0 - 3.7)
    assert m.silence_total_seconds == pytest.approx(30.0 - 3.7, abs=1e-3)  # gaps under 2 s are pauses
    assert (m.hold_count, m.hold_total_seconds) == (1, pytest.approx(26.3))
    assert m.intervals["silence"] == [[3.7, 30.0]] and m.intervals["hold"] == [[3.7, 30.0]]
    assert m.hold_min_seconds == 20.0
    assert m.overtalk_count == 0 and m.overtalk_total_seconds == 0
    assert m.turn_count == 3
    assert m.longest_monologue_speaker == "agent" and m.longest_monologue_seconds == pytest.approx(1.9)
    assert m.agent_words_per_minute == pytest.approx(8 * 60 / 3.0, rel=1e-3)


def test_overtalk_and_interruptions():
    agent = said("agent", "let me explain the whole new tariff to you now", 0.0)  # 0 - 3.9
    customer = said("customer", "no wait", 1.0) + said("customer", "ok", 6.0)  # 1 - 1.7 over the agent
    m = compute_metrics(agent + customer, duration=7.0)
    # the words overlap four times between 1.0 and 1.7: one episode from the first overlap to the last
    assert m.overtalk_count == 1 and m.overtalk_total_seconds == pytest.approx(0.7)
    assert m.interruptions_by_customer == 1 and m.interruptions_by_agent == 0


def test_metrics_of_an_empty_call():
    m = compute_metrics([], duration=10.0)
    assert m.silence_total_seconds == 10.0 and m.silence_longest_seconds == 10.0
    assert m.agent_talk_ratio is None and m.turn_count == 0 and m.longest_monologue_speaker is None


def test_channel_roles():
    assert channel_roles({}, 2) == ["agent", "customer"]
    assert channel_roles({"0": "customer", "1": "agent"}, 2) == ["customer", "agent"]
    assert channel_roles({"0": "mixed"}, 1) == ["unknown"]
    assert channel_roles({"0": "agent", "1": "customer"}, 1) == ["unknown"]


def test_build_transcript_redacts_lines_and_keeps_audio_ranges():
    words = said("agent", "your card number please", 0.0) + said(
        "customer", "four one one one one one one one one one one one one one one one", 2.0)
    info = AudioInfo(format="wav", channels=2, sample_rate=16000, duration_seconds=10.0)
    transcript = build_transcript(words, info=info, duration=10.0, separation="channels")
    assert [line.speaker for line in transcript.lines] == ["agent", "customer"]
    assert transcript.lines[1].redacted_text == "[CARD]"
    assert transcript.redaction_ranges == [{"start": 2.0, "end": 8.3, "kind": "card", "channel": 1,
                                            "speaker": "customer"}]
    assert all(w["pii"] == "card" for w in transcript.lines[1].words)
    assert {w["w"] for w in redacted_words(transcript.lines[1].words)} == {"[CARD]"}
    assert transcript.speaker_separation == "channels"


def test_bleep_replaces_only_the_ranges_and_wav_bytes_round_trip(tmp_path):
    import numpy as np

    from app.speech.audio import SAMPLE_RATE, bleep, decode_channels, probe, wav_bytes

    left, right = np.full(SAMPLE_RATE * 2, 0.5, dtype=np.float32), np.full(SAMPLE_RATE * 2, -0.5, dtype=np.float32)
    out = bleep([left, right], [(0.5, 1.0, 1)])
    assert np.array_equal(out[0], left) and left[0] == 0.5  # the input is not changed
    assert np.all(out[1][: SAMPLE_RATE // 2] == -0.5) and np.all(np.abs(out[1][SAMPLE_RATE // 2: SAMPLE_RATE]) <= 0.2)
    assert np.all(out[1][SAMPLE_RATE:] == -0.5)
    path = tmp_path / "copy.wav"
    path.write_bytes(wav_bytes(out))
    info = probe(path)
    assert (info.channels, info.sample_rate, round(info.duration_seconds, 2)) == (2, SAMPLE_RATE, 2.0)
    assert decode_channels(path, channels=2)[1][SAMPLE_RATE + 10] == pytest.approx(-0.5, abs=1e-3)


def test_probe_refuses_empty_and_missing_files(tmp_path):
    from app.speech.audio import AudioError, probe

    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        probe(empty)
    with pytest.raises(AudioError, match="missing"):
        probe(tmp_path / "nothing.wav")


def test_short_holds_count_from_five_seconds_and_only_while_the_agent_is_quiet():
    # three gaps with no words: 6 s (agent muted: a hold), 6 s (agent's line loud: talk we did not transcribe),
    # and 3 s (a pause)
    words = (said("agent", "one moment please", 0.0) + said("agent", "thanks for waiting", 7.1)
             + said("customer", "ok", 14.1) + said("agent", "right", 17.5))
    m = compute_metrics(words, duration=18.0, agent_active=[(8.5, 14.0)])
    assert m.hold_min_seconds == 5.0
    assert m.intervals["silence"] == [[1.1, 7.1], [8.2, 14.1], [14.4, 17.5]]
    assert m.intervals["hold"] == [[1.1, 7.1]]
    assert (m.hold_count, m.hold_total_seconds) == (1, pytest.approx(6.0))
    assert compute_metrics(words, duration=18.0, hold_seconds=10.0).hold_count == 0


def test_overtalk_is_measured_from_the_words_not_the_breaths_between_them():
    agent = said("agent", "a b c d", 0.0, step=0.7)  # words 0-0.3, 0.7-1.0, 1.4-1.7, 2.1-2.4
    customer = [TimedWord(text=" yes", start=0.35, end=0.65, speaker="customer", channel=1)]  # in a breath
    m = compute_metrics(agent + customer, duration=3.0)
    assert m.overtalk_count == 0 and m.intervals["overtalk"] == []
    assert m.agent_talk_seconds == pytest.approx(2.4)  # talk time still bridges the breaths
    customer.append(TimedWord(text=" no", start=1.5, end=1.9, speaker="customer", channel=1))
    m = compute_metrics(agent + customer, duration=3.0)
    assert m.intervals["overtalk"] == [[1.5, 1.7]] and m.overtalk_total_seconds == pytest.approx(0.2)


def test_the_page_timeline_totals_are_the_stored_figures():
    from app.interactions.timeline import bars, from_intervals

    words = said("agent", "one moment please", 0.0) + said("customer", "fine", 0.5) + said("agent", "back", 9.0)
    m = compute_metrics(words, duration=12.0)
    line = from_intervals(m.intervals, m.duration_seconds)
    assert line.total(line.silence) == pytest.approx(m.silence_total_seconds)
    assert line.total(line.hold) == pytest.approx(m.hold_total_seconds) and len(line.hold) == m.hold_count == 1
    assert line.total(line.overtalk) == pytest.approx(m.overtalk_total_seconds) and m.overtalk_count == 1
    assert line.total(line.talk["agent"]) == pytest.approx(m.agent_talk_seconds)
    assert {b.kind for b in bars(line)} == {"agent", "customer", "overtalk", "silence", "hold"}


def test_words_stacked_in_an_instant_are_dropped_as_made_up():
    """The tail Whisper invents past the end of speech (seen on a real recording): five words at one instant,
    unsure of each. Real words around them, and a sure timing glitch, stay."""
    spoken = [TimedWord(" Rear,", 13.08, 13.46, 0.94, channel=1), TimedWord(" Center.", 13.76, 14.04, 0.84, channel=1)]
    invented = [TimedWord(f" {w}", 14.62, 14.62, p, channel=1)
                for w, p in [("Side,", 0.02), ("Right,", 0.08), ("Side,", 0.43), ("Left,", 0.08), ("Side.", 0.87)]]
    assert [w.text for w in repair_stray_words(spoken + invented)] == [" Rear,", " Center."]
    sure = [TimedWord(f" {w}", 20.0, 20.05, 0.95, channel=1) for w in ("one", "two", "three")]
    assert len(drop_stacked_words(spoken + sure)) == 5
    other_channels = [TimedWord(" yes", 5.0, 5.02, 0.1, channel=0), TimedWord(" no", 5.0, 5.02, 0.1, channel=1),
                      TimedWord(" ok", 5.01, 5.03, 0.1, channel=0)]
    assert drop_stacked_words(other_channels) == other_channels  # never three of one channel in a row
