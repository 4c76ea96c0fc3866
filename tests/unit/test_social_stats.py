"""Fairness by follower band, spike detection on constructed series, and similarity precision."""

from datetime import UTC, datetime, timedelta

from app.social.similar import rank_similar, terms
from app.social.stats import ResponseSample, detect_spikes, fairness_report, follower_band


def test_follower_bands():
    assert [follower_band(n) for n in (None, 0, 999, 1000, 9999, 10_000, 99_999, 100_000, 250_000)] == [
        "<1k", "<1k", "<1k", "1k–10k", "1k–10k", "10k–100k", "10k–100k", "≥100k", "≥100k"]


def test_fair_sample_is_not_flagged():
    samples = [ResponseSample(followers=f, response_seconds=s, within_sla=s <= 3600)
               for f in (100, 5_000, 50_000, 250_000) for s in (600, 1200, 1800, 2400, 4000)]
    report = fairness_report(samples)
    assert not report.flagged
    assert {row.band: row.threads for row in report.bands} == {"<1k": 5, "1k–10k": 5, "10k–100k": 5, "≥100k": 5}
    assert all(row.median_seconds == 1800 for row in report.bands)
    assert all(row.share_within_sla == 0.8 for row in report.bands)
    assert report.p_value is not None and report.p_value > 0.3


def test_influencers_answered_faster_are_flagged():
    fast = [ResponseSample(followers=200_000, response_seconds=s, within_sla=True) for s in (60, 90, 120, 150, 180, 240)]
    slow = [ResponseSample(followers=300, response_seconds=s, within_sla=s <= 3600)
            for s in (1800, 2400, 3000, 3600, 4200, 5000, 6000)]
    report = fairness_report(fast + slow)
    assert report.flagged
    assert report.p_value is not None and report.p_value < 0.01
    assert report.high_median_seconds == 135 and report.low_median_seconds == 3600
    band = {row.band: row for row in report.bands}
    assert band["≥100k"].share_within_sla == 1.0
    assert band["<1k"].share_within_sla == 4 / 7


def test_too_few_samples_give_no_verdict():
    report = fairness_report([ResponseSample(followers=200_000, response_seconds=10, within_sla=True)])
    assert report.p_value is None and not report.flagged


def _series(counts: list[int]) -> list[tuple[datetime, int]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [(start + timedelta(hours=i), c) for i, c in enumerate(counts)]


def test_spike_found_in_a_noisy_baseline():
    baseline = [0, 1, 0, 2, 1, 0, 0, 1] * 21  # 168 hours, mean 0.625
    series = _series(baseline + [9, 1])
    spikes = detect_spikes(series, from_index=168)
    assert [s.count for s in spikes] == [9]
    assert spikes[0].hour == series[168][0]
    assert 0.6 < spikes[0].baseline_mean < 0.7 and spikes[0].threshold < 9


def test_flat_series_raises_nothing():
    assert detect_spikes(_series([2] * 200), from_index=168) == []
    assert detect_spikes(_series([0] * 200), from_index=168) == []


def test_small_counts_never_spike():
    # 2 negative posts after a silent week is above mean + 3 sd but below the minimum count
    assert detect_spikes(_series([0] * 168 + [2]), from_index=168) == []
    assert len(detect_spikes(_series([0] * 168 + [3]), from_index=168)) == 1


def test_terms_drop_stop_words_and_stem():
    assert terms("My broadband keeps dropping and the outages are killing me!") == \
        ["broadband", "dropp", "outag", "kill"]
    assert terms("outage") == terms("outages")


# A small labelled set: each query with the documents that really are the same problem.
LABELLED_QUERIES = {
    "Broadband down again in Leeds, no internet since this morning": {0, 1, 2},
    "I was charged twice for my October bill, refund please": {3, 4},
    "The new router keeps rebooting every hour": {5, 6},
}
DOCUMENTS = [
    "Customer says the broadband has been down all day, no internet connection at home in Leeds",  # 0
    "my internet is down again, the broadband light is red",  # 1
    "No broadband since this morning, is there an outage in Leeds?",  # 2
    "I have been charged twice this month, the bill shows two payments",  # 3
    "double charge on my October bill, I want a refund",  # 4
    "router rebooting constantly, it restarts every hour",  # 5
    "the new router I got keeps rebooting",  # 6
    "I want to upgrade my mobile plan to unlimited data",  # 7
    "please change the address on my account",  # 8
    "great service in the Riverside shop today, thank you",  # 9
    "my TV box shows no picture on channel 4",  # 10
]


def test_similarity_precision_on_the_labelled_set():
    hits = returned = found = relevant = 0
    for query, expected in LABELLED_QUERIES.items():
        matches = rank_similar(query, DOCUMENTS)
        got = {m.index for m in matches}
        hits += len(got & expected)
        returned += len(got)
        found += len(got & expected)
        relevant += len(expected)
        assert all(m.shared_terms for m in matches)
    precision, recall = hits / returned, found / relevant
    print(f"similarity precision {precision:.2f} recall {recall:.2f}")
    assert precision >= 0.85
    assert recall >= 0.7


def test_matched_terms_explain_the_match():
    best = rank_similar("I was charged twice for my October bill", DOCUMENTS)[0]
    assert best.index in (3, 4)
    assert "charg" in best.shared_terms and "bill" in best.shared_terms


def test_influence_score_is_log_scaled_and_capped():
    from app.social.service import influence_score

    assert influence_score(followers=None) == 0.0
    assert influence_score(followers=9) == 12.5
    assert influence_score(followers=999_999) == 75.0
    assert influence_score(followers=10**9, engagement=10**9) == 100.0
    assert influence_score(followers=99, engagement=99) == 25.0 + 12.5


def _days(rows):
    start = datetime(2026, 10, 1, tzinfo=UTC)
    return [(start + timedelta(days=i), neg, total) for i, (neg, total) in enumerate(rows)]


def test_daily_negative_share_spike_uses_a_two_proportion_test():
    from app.social.stats import detect_share_spikes

    baseline = [(4, 20)] * 28  # 20% negative
    spikes = detect_share_spikes(_days(baseline + [(18, 30)]), from_index=28)
    assert len(spikes) == 1
    spike = spikes[0]
    assert spike.share == 0.6 and spike.baseline_share == 0.2 and spike.p_value < 0.001 and spike.z > 4
    assert detect_share_spikes(_days(baseline + [(6, 30)]), from_index=28) == []  # 20%: flat
    assert detect_share_spikes(_days(baseline + [(8, 8)]), from_index=28) == []  # too few posts to judge
    assert detect_share_spikes(_days(baseline + [(10, 30)]), from_index=28) == []  # +13 points: below the rise
