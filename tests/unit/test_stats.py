"""Statistics checked against hand-worked and published examples (sources named in each test)."""

import math

import pytest

from app.core.stats import (
    NOT_ENOUGH,
    TargetVerdict,
    bootstrap_interval,
    compare_to_target,
    krippendorff_alpha,
    krippendorff_alpha_interval,
    mean_interval,
    paired_bias,
    plan_sample_size,
    rank_groups,
    wilson_interval,
)


def test_t_interval_hand_worked():
    # 1..5: mean 3, sd sqrt(2.5)=1.5811, t(0.975, df=4)=2.7764 (t-table) -> half-width 1.9632
    iv = mean_interval([1, 2, 3, 4, 5])
    assert iv.estimate == 3 and iv.n == 5
    assert iv.low == pytest.approx(1.0368, abs=1e-4) and iv.high == pytest.approx(4.9632, abs=1e-4)


def test_small_samples_say_not_enough():
    assert mean_interval([]).describe() == NOT_ENOUGH
    one = mean_interval([80])
    assert one.low is None and NOT_ENOUGH in one.describe()
    two = mean_interval([70, 90])  # t(0.975,1)=12.706: a huge interval
    assert not two.conclusive() and NOT_ENOUGH in two.describe()


def test_zero_variance_gives_a_zero_width_interval():
    iv = mean_interval([88, 88, 88, 88])
    assert iv.low == iv.high == 88 and iv.conclusive()


def test_wilson_matches_newcombe_1998():
    # Newcombe, Statistics in Medicine 17:857-872 (1998), Table I: 81/263 -> Wilson 0.2553 to 0.3662
    iv = wilson_interval(81, 263)
    assert iv.low == pytest.approx(0.2553, abs=1e-4) and iv.high == pytest.approx(0.3662, abs=1e-4)


def test_wilson_at_the_edges():
    # Newcombe (1998) Table I: 0/10 -> 0 to 0.2775; 10/10 -> 0.7225 to 1
    zero = wilson_interval(0, 10)
    assert zero.low == 0 and zero.high == pytest.approx(0.2775, abs=1e-4)
    full = wilson_interval(10, 10)
    assert full.low == pytest.approx(0.7225, abs=1e-4) and full.high == pytest.approx(1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_target_verdict_needs_the_whole_interval():
    assert compare_to_target(mean_interval([60, 62, 61, 63, 59]), 80) is TargetVerdict.BELOW
    assert compare_to_target(mean_interval([78, 82, 79, 83, 81]), 80) is TargetVerdict.INCONCLUSIVE
    assert compare_to_target(mean_interval([90, 95]), 80) is TargetVerdict.NOT_ENOUGH


def test_ranking_groups_overlapping_agents():
    intervals = {
        "ada": mean_interval([90, 91, 92, 90, 91]),
        "ben": mean_interval([89, 92, 91, 90, 92]),
        "cara": mean_interval([60, 61, 62, 60, 61]),
        "dan": mean_interval([99, 40]),
    }
    assert rank_groups(intervals) == [["ada", "ben"], ["cara"]]


def test_sample_size_hand_worked():
    # sd 15, ±5 points at 95 %. The normal approximation (1.96*15/5)^2 = 34.6 is too optimistic for small n.
    # With t: n=37 -> t(0.975,36)=2.0281, 2.0281*15/sqrt(37) = 5.0013 > 5; n=38 -> 2.0262*15/sqrt(38) = 4.9305.
    plan = plan_sample_size(sd=15, margin=5)
    assert plan.per_agent == 38
    assert plan_sample_size(sd=0, margin=5).per_agent == 3
    with pytest.raises(ValueError):
        plan_sample_size(sd=10, margin=0)


def test_paired_bias_flags_a_consistent_offset_only():
    harsh = paired_bias([(70, 80), (72, 81), (65, 76), (80, 89), (74, 85)])
    assert harsh.offset == pytest.approx(-10.0) and harsh.significant and harsh.p_value < 0.001
    noisy = paired_bias([(70, 80), (90, 81), (65, 66), (80, 79), (84, 85)])
    assert not noisy.significant
    few = paired_bias([(50, 90), (55, 90)])
    assert not few.significant and few.p_value is None
    constant = paired_bias([(75, 80), (85, 90), (95, 100)])
    assert constant.offset == -5 and constant.significant


def test_krippendorff_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12 units example:
    # nominal alpha = 0.743, interval alpha = 0.849
    n = None
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    assert krippendorff_alpha(data, level="nominal") == pytest.approx(0.743, abs=1e-3)
    assert krippendorff_alpha(data, level="interval") == pytest.approx(0.849, abs=1e-3)
    iv = krippendorff_alpha_interval(data, level="interval", resamples=300)
    assert iv.low is not None and iv.low <= 0.849 <= iv.high


def test_krippendorff_undefined_cases():
    assert krippendorff_alpha([[1, 1, 1], [1, 1, 1]]) is None  # no variation at all
    assert krippendorff_alpha([[1, None], [None, 2]]) is None  # no unit rated twice


def test_bootstrap_is_deterministic_and_covers_the_mean():
    scores = [55, 70, 72, 75, 80, 82, 85, 90, 95, 98]
    a = bootstrap_interval(scores)
    b = bootstrap_interval(scores)
    assert (a.low, a.high) == (b.low, b.high) and a.low < a.estimate < a.high
    assert not math.isnan(a.low)


def test_score_groups_carry_their_interval():
    from app.evaluations.reports import ScoreGroup, _finish

    group = _finish(ScoreGroup(key="ada", scores=[1, 2, 3, 4, 5]))
    assert (group.ci_low, group.ci_high) == (1.04, 4.96) and group.conclusive
    assert "95% CI 1.0–5.0, n=5" in group.interval
