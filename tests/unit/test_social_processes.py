"""Process tagging rules and the metrics/maturity formulas on hand-checked examples."""

import pytest

from app.social.processes import ThreadFacts, classify, engagement_score, process_metrics


@pytest.mark.parametrize(("text", "process"), [
    ("I was charged twice, refund please", "billing"),
    ("my order never arrived, tracking says delivered", "order_service"),
    ("broadband down again, useless", "customer_service"),
    ("can I upgrade to the fibre package?", "sales"),
    ("how much is it, is it available in my area", "lead"),
    ("love the new ad!", "brand"),
    ("hello?", "customer_service"),
    ("the download worked, thanks", "brand"),  # "down" inside "download" is not the word "down"
    ("refund for the order that never came", "billing"),  # billing before order/service
])
def test_rules(text, process):
    assert classify(text) == process


def facts(**kw):
    base = {"process": "customer_service", "answered": True, "response_seconds": 600.0, "within_target": True,
            "engagement": 0, "resolved": True, "customer_posted_again": False}
    return ThreadFacts(**{**base, **kw})


def test_service_process_by_hand():
    threads = [
        facts(response_seconds=600),  # good
        facts(response_seconds=5400, within_target=False, resolved=True, customer_posted_again=True),
        facts(answered=False, response_seconds=None, within_target=False, resolved=False),  # missed
        facts(response_seconds=1200, resolved=False),
    ]
    m = process_metrics("customer_service", threads)
    assert m.threads == 4 and m.median_response_seconds == 1200
    assert m.missed_share == 0.25 and m.within_target_share == 0.5
    assert m.first_issue_resolution == 0.25 and m.engagement_mean is None and m.quality_mean is None
    # speed .5, coverage .75, outcome .25, no quality: (.3*.5 + .3*.75 + .25*.25) / .85 = .4375/.85
    assert m.maturity == round(100 * 0.4375 / 0.85, 1) == 51.5


def test_brand_process_uses_engagement_and_quality():
    threads = [facts(process="brand", engagement=999, quality=80.0), facts(process="brand", engagement=999,
                                                                             within_target=None, quality=60.0)]
    m = process_metrics("brand", threads)
    assert m.engagement_mean == 999 and engagement_score(999) == 1.0
    assert m.within_target_share == 1.0 and m.first_issue_resolution is None and m.quality_mean == 70.0
    # speed 1, coverage 1, outcome 1, quality .7: (.3 + .3 + .25 + .15*.7) / 1.0
    assert m.maturity == 95.5


def test_no_threads():
    assert process_metrics("sales", []).maturity is None


def test_engagement_not_reported_is_left_out():
    m = process_metrics("lead", [facts(process="lead", engagement=None), facts(process="lead", engagement=None)])
    assert m.engagement_mean is None and m.maturity == 100.0
    m = process_metrics("lead", [facts(process="lead", engagement=None), facts(process="lead", engagement=9)])
    assert m.engagement_mean == 9.0  # mean over the threads that report it


def test_a_post_not_yet_due_is_not_a_missed_opportunity():
    waiting = facts(answered=False, response_seconds=None, within_target=None, resolved=False)
    m = process_metrics("customer_service", [facts(), waiting])
    assert m.missed_share == 0.0 and m.within_target_share == 1.0
