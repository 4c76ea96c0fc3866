"""The call timeline: merged talk per speaker, overtalk where agent and customer overlap, silences of 2 s or
more (including the end of the recording), and bars scaled to the SVG's 1000-unit width."""

from app.interactions import timeline


def test_talk_overtalk_and_silence_from_hand_made_lines():
    lines = [("agent", 0.0, 4.0), ("agent", 3.5, 6.0),  # overlapping agent lines merge into 0–6
             ("customer", 5.0, 9.0),  # 5–6 both talk
             ("agent", 12.0, 15.0),  # 9–12 nobody: 3 s silence
             ("customer", 14.0, 14.5), ("customer", 15.5, 16.0)]  # 15–15.5 is a 0.5 s pause: not silence
    line = timeline.build(lines, duration=20.0)  # 16–20: trailing silence
    assert line.talk["agent"] == [timeline.Span(0.0, 6.0), timeline.Span(12.0, 15.0)]
    assert line.overtalk == [timeline.Span(5.0, 6.0), timeline.Span(14.0, 14.5)]
    assert line.silence == [timeline.Span(9.0, 12.0), timeline.Span(16.0, 20.0)]
    assert (line.total(line.talk["agent"]), line.total(line.overtalk), line.total(line.silence)) == (9.0, 1.5, 7.0)


def test_bars_are_scaled_to_the_viewbox_and_keep_their_times():
    line = timeline.build([("agent", 0.0, 25.0), ("unknown", 30.0, 50.0)], duration=50.0)
    bars = timeline.bars(line)
    agent = next(b for b in bars if b.kind == "agent")
    assert (agent.x, agent.width, agent.start, agent.end) == (0.0, 500.0, 0.0, 25.0)
    unknown = next(b for b in bars if b.kind == "unknown")  # a mono call's lines share the customer lane
    assert (unknown.x, unknown.y) == (600.0, timeline.LANES["customer"])
    assert [b.kind for b in bars if b.kind == "silence"] == ["silence"]  # 25–30
    assert line.overtalk == []  # nothing is overtalk without both an agent and a customer


def test_empty_call_has_no_bars():
    assert timeline.bars(timeline.build([], duration=None)) == []
    assert timeline.build([], duration=8.0).silence == [timeline.Span(0.0, 8.0)]
