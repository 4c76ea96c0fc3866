from app.nlp.views import CHART_HEIGHT, CHART_WIDTH, _chart


def test_sentiment_chart_points_stay_inside_the_svg():
    timeline = [{"source_type": "segment", "source_id": i, "speaker": "agent" if i % 2 else "customer",
                 "start": i * 10.0, "end": i * 10.0 + 8, "sentiment": s}
                for i, s in enumerate([-1.0, 0.2, -0.4, 0.5, 1.0])]
    chart = _chart(timeline)
    assert {s["side"] for s in chart["series"]} == {"agent", "customer"}
    for series in chart["series"]:
        for point in series["points"]:
            assert 0 <= point["x"] <= CHART_WIDTH and 0 <= point["y"] <= CHART_HEIGHT
    customer = next(s for s in chart["series"] if s["side"] == "customer")
    assert customer["points"][0]["y"] == chart["bottom_y"] and customer["points"][-1]["y"] == chart["top_y"]
    assert chart["axis"] == "time (s)"


def test_chart_for_messages_uses_order_and_empty_timeline():
    timeline = [{"source_type": "message", "source_id": 1, "speaker": "customer", "start": 0, "end": 0, "sentiment": 0.0}]
    assert _chart(timeline)["axis"] == "message order"
    assert _chart([])["series"] == []
