"""Rules without a database: rating bands, row checks, periods, signatures, the SVG chart."""

from datetime import UTC, datetime

import pytest

from app.core.errors import InvalidInput
from app.surveys import charts, figures, service
from app.surveys.imports import sign
from app.surveys.linking import normalise_email, normalise_phone
from app.surveys.models import DEFAULT_RATING_RULE


@pytest.mark.parametrize(("scale", "score", "band"), [
    ("csat", "5", "good"), ("csat", "4", "good"), ("csat", "3", "acceptable"), ("csat", "2", "bad"),
    ("csat", "1", "bad"), ("nps", "10", "good"), ("nps", "9", "good"), ("nps", "8", "acceptable"),
    ("nps", "7", "acceptable"), ("nps", "6", "bad"), ("nps", "0", "bad")])
def test_default_band_rules(scale, score, band):
    assert service.band_for(rating=None, score=score, scale=scale, rule=DEFAULT_RATING_RULE)[0] == band


def test_native_band_wins_and_keeps_the_score():
    assert service.band_for(rating="Bad", score="4", scale=None, rule=DEFAULT_RATING_RULE) == ("bad", 4.0, "csat")
    assert service.band_for(rating="good", score=None, scale=None, rule=DEFAULT_RATING_RULE) == ("good", None,
                                                                                               "band")


def test_band_rule_is_configurable_and_checked():
    rule = {"default_scale": "csat", "csat": {"good_min": 5, "acceptable_min": 4},
            "nps": {"good_min": 9, "acceptable_min": 7}}
    assert service.band_for(rating=None, score="4", scale=None, rule=rule)[0] == "acceptable"
    with pytest.raises(InvalidInput):
        service._checked_rule({"csat": {"good_min": 2, "acceptable_min": 4}})


@pytest.mark.parametrize(("row", "reason"), [
    ({"response_id": "x", "responded_at": "2026-11-01T10:00:00Z", "rating": "", "score": ""}, "no rating or score"),
    ({"response_id": "x", "invited_at": "2026-11-01", "rating": "good", "responded_at": ""}, "no responded_at"),
    ({"response_id": "x", "invited_at": "", "responded_at": "", "comment": "hi"},
     "neither invited_at nor responded_at"),
    ({"response_id": "x", "comment": ""}, "nothing but response_id"),
    ({"response_id": "x", "invited_at": "yesterday"}, "not an ISO 8601 time"),
    ({"response_id": "x", "invited_at": "2026-11-01", "customer_phone": "call me"}, "not a phone number"),
    ({"response_id": "x", "invited_at": "2026-11-01", "customer_email": "nope"}, "not an e-mail address"),
    ({"response_id": "x", "responded_at": "2026-11-01", "score": "11", "scale": "nps"}, "outside the NPS"),
    ({"response_id": "x", "responded_at": "2026-11-01", "score": "ten"}, "not a number"),
])
def test_rows_are_rejected_with_a_reason(row, reason):
    with pytest.raises(service.RowRejected, match=reason):
        service.parse_row(row, rule=DEFAULT_RATING_RULE)


def test_identities_are_normalised():
    assert normalise_phone("07700 900123") == "+447700900123"
    assert normalise_phone("+44 (0)7700 900123") == "+447700900123"
    assert normalise_phone("not a number") is None
    assert normalise_email(" Maria.Lopez@Example.COM ") == "maria.lopez@example.com"


def test_period_bounds():
    label, start, end = figures.period_bounds(datetime(2026, 12, 31, 23, tzinfo=UTC), "month")
    assert (label, start.month, end.year, end.month) == ("2026-12", 12, 2027, 1)
    label, start, end = figures.period_bounds(datetime(2026, 11, 4, tzinfo=UTC), "week")
    assert label == "2026-W45" and start.day == 2 and (end - start).days == 7


def test_signature_is_hmac_sha256_of_the_raw_body():
    import hashlib
    import hmac

    body = b'{"response_id": "1"}'
    assert sign("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()


def test_chart_escapes_labels():
    period = figures.PeriodFigures(period="<b>x</b>", start=datetime(2026, 1, 1, tzinfo=UTC),
                                   end=datetime(2026, 2, 1, tzinfo=UTC))
    period.total.invited, period.total.completed = 4, 2
    period.total.counts["bad"] = 2
    chart = charts.band_trend_chart([period])
    svg = str(chart.svg)
    assert svg.startswith("<svg") and "<b>" not in svg and "&lt;b&gt;" in svg
    assert chart.rows == [["<b>x</b>", "0", "0", "2", "50.0"]]  # good, acceptable, bad, response rate %


def test_a_row_changes_only_the_fields_it_has():
    """An absent column and an empty cell change nothing; an empty cell clears only a field the source's
    mapping lists in clear_when_empty. Reasons name the user's column."""
    changes = service.parse_row({"response_id": "x", "invited_at": "2026-11-01T09:00:00Z", "comment": ""},
                                rule=DEFAULT_RATING_RULE)
    assert changes == {"response_id": "x", "invited_at": datetime(2026, 11, 1, 9, tzinfo=UTC)}
    cleared = service.parse_row({"response_id": "x", "invited_at": "2026-11-01", "comment": "", "rating": ""},
                                rule=DEFAULT_RATING_RULE, clear=["comment", "rating"])
    assert cleared["comment"] is None and cleared["band"] is None and cleared["raw_score"] is None
    with pytest.raises(service.RowRejected, match="completed_at 'soon' is not an ISO 8601 time"):
        service.parse_row({"response_id": "x", "responded_at": "soon", "rating": "good"},
                          rule=DEFAULT_RATING_RULE, labels={"responded_at": "completed_at"})
    with pytest.raises(service.RowRejected, match="Q1 'ten' is not a number"):
        service.parse_row({"response_id": "x", "responded_at": "2026-11-01", "score": "ten"},
                          rule=DEFAULT_RATING_RULE, labels={"score": "Q1"})


def test_survey_phone_numbers_use_the_default_region():
    us = service.parse_row({"response_id": "x", "invited_at": "2026-11-01", "customer_phone": "(202) 555-0143"},
                           rule=DEFAULT_RATING_RULE, region="US")
    assert us["customer_phone"] == "+12025550143"
    gb = service.parse_row({"response_id": "x", "invited_at": "2026-11-01", "customer_phone": "07700 900123"},
                           rule=DEFAULT_RATING_RULE, region="GB")
    assert gb["customer_phone"] == "+447700900123"
