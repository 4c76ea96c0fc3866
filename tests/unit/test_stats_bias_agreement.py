"""Bias and agreement statistics against published and hand-worked examples (the source is named in each
test), plus the small-sample and zero-variance cases the pages must word correctly."""

import math
from datetime import UTC, datetime
from itertools import permutations

import numpy as np
import pytest

from app.core.stats import (
    NO_PAIRABLE,
    NO_VARIATION,
    _alpha_from_coincidences,
    _matrix,
    _unit_coincidences,
    alpha_undefined_reason,
    bootstrap_alphas,
    krippendorff_alpha,
    krippendorff_alpha_interval,
    paired_bias,
)
from app.evaluations.agreement import AlphaCell, QuestionAgreement, chart, period_of
from app.evaluations.bias import MIN_PAIRS, NOT_ENOUGH_PAIRS, TOTAL, EvaluatorBias

N = None
# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication,
# University of Pennsylvania, section C ("nominal data, any number of observers, missing data"): 4 observers
# x 12 units, values 1..5, None = not rated. Published: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]


def _alpha_by_hand(data, level):
    """Krippendorff (2011) step by step: the coincidence matrix o_ck (each ordered pair of values in a unit
    with m_u values adds 1/(m_u - 1)), marginals n_c, then alpha = 1 - (n - 1) * sum o_ck d2_ck /
    sum n_c n_k d2_ck, with the paper's difference functions d2 per level. Independent of the library."""
    coincidences: dict[tuple[float, float], float] = {}
    for unit in zip(*data, strict=True):
        values = [v for v in unit if v is not None]
        for a, b in permutations(range(len(values)), 2):
            key = (values[a], values[b])
            coincidences[key] = coincidences.get(key, 0.0) + 1 / (len(values) - 1)
    categories = sorted({c for c, _ in coincidences})
    marginal = {c: sum(o for (a, _), o in coincidences.items() if a == c) for c in categories}
    n = sum(marginal.values())

    def d2(c, k):
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return ((c - k) / (c + k)) ** 2
        low, high = min(c, k), max(c, k)  # ordinal: the marginals between c and k, halving the ends
        return (sum(marginal[g] for g in categories if low <= g <= high) - (marginal[c] + marginal[k]) / 2) ** 2

    observed = sum(o * d2(c, k) for (c, k), o in coincidences.items())
    expected = sum(marginal[c] * marginal[k] * d2(c, k) for c in categories for k in categories)
    return 1 - (n - 1) * observed / expected


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                                  ("ratio", 0.797)])
def test_alpha_reproduces_krippendorff_2011_at_every_level(level, published):
    by_hand = _alpha_by_hand(KRIPPENDORFF_2011, level)
    assert by_hand == pytest.approx(published, abs=5e-4)  # our step-by-step reading of the paper
    assert krippendorff_alpha(KRIPPENDORFF_2011, level=level) == pytest.approx(by_hand, abs=1e-9)


def test_alpha_nominal_hand_worked_in_full():
    # Two raters, four units: (1,1) (0,0) (1,1) (0,1). Coincidences: o_00 = 2, o_11 = 4, o_01 = o_10 = 1;
    # n_0 = 3, n_1 = 5, n = 8. alpha = 1 - (n-1) * (o_01 + o_10) / (2 n_0 n_1) = 1 - 7 * 2 / 30 = 0.5333.
    assert krippendorff_alpha([[1, 0, 1, 0], [1, 0, 1, 1]], level="nominal") == pytest.approx(8 / 15)


def test_alpha_interval_covers_the_published_value_and_is_deterministic():
    first = krippendorff_alpha_interval(KRIPPENDORFF_2011, level="nominal", resamples=400)
    again = krippendorff_alpha_interval(KRIPPENDORFF_2011, level="nominal", resamples=400)
    assert first.n == 11  # unit 12 has one rating only: not pairable, not resampled
    assert (first.low, first.high) == (again.low, again.high)
    assert first.low < 0.743 < first.high <= 1.0


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_vectorised_bootstrap_equals_the_library_resample_by_resample(level):
    # The fast bootstrap sums per-unit coincidence matrices; each resample must give what the library gives
    # on the same resampled columns (and the full sample the published value).
    matrix = _matrix(KRIPPENDORFF_2011)
    matrix = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    values, per_unit = _unit_coincidences(matrix)
    assert _alpha_from_coincidences(per_unit.sum(axis=0)[None], values, level)[0] == pytest.approx(
        krippendorff_alpha(KRIPPENDORFF_2011, level=level), abs=1e-12)
    fast = bootstrap_alphas(matrix, level=level, resamples=25, seed=3)
    draws = np.random.default_rng(3).integers(0, matrix.shape[1], size=(25, matrix.shape[1]))
    slow = [krippendorff_alpha(matrix[:, row], level=level) for row in draws]
    assert [None if math.isnan(a) else pytest.approx(a, abs=1e-9) for a in fast] == slow


def test_alpha_undefined_reasons():
    identical = [[3, 3, 3, 3], [3, 3, 3, 3]]
    assert krippendorff_alpha(identical) is None and alpha_undefined_reason(identical) == NO_VARIATION
    assert krippendorff_alpha_interval(identical).estimate is None
    # the only differing value is in a unit nobody else rated: the pairable values still have no variation
    assert alpha_undefined_reason([[3, 3, 5], [3, 3, N]]) == NO_VARIATION
    assert alpha_undefined_reason([[1, N], [N, 2]]) == NO_PAIRABLE
    assert alpha_undefined_reason([[1, 2, 3]]) == NO_PAIRABLE  # one rater
    assert alpha_undefined_reason(KRIPPENDORFF_2011) is None


def test_alpha_interval_needs_three_units():
    two_units = krippendorff_alpha_interval([[1, 2], [1, 2]], level="nominal")
    assert two_units.estimate == 1.0 and two_units.low is None and two_units.n == 2


# Student (1908), "The probable error of a mean", Biometrika 6:1-25, the Cushny & Peebles sleep data as
# shipped with R (`sleep`): extra hours of sleep of 10 patients under drug 1 and drug 2.
# R: t.test(extra ~ group, data = sleep, paired = TRUE) -> t = -4.0621, df = 9, p-value = 0.002833,
# 95 % CI -2.4598858 to -0.7001142 (drug 1 minus drug 2; here drug 2 minus drug 1, so signs flip).
DRUG_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
DRUG_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_paired_t_test_reproduces_students_sleep_data():
    # By hand: differences 1.2 2.4 1.3 1.3 0.0 1.0 1.8 0.8 4.6 1.4, mean 1.58, sum of squared deviations
    # 13.616, sd sqrt(13.616/9) = 1.2300, se 0.38896, t = 4.0621; t(0.975, 9) = 2.2622 -> half-width 0.8799.
    result = paired_bias(list(zip(DRUG_2, DRUG_1, strict=True)))
    assert result.n_pairs == 10 and result.offset == pytest.approx(1.58)
    assert result.offset / (result.interval.half_width / 2.2622) == pytest.approx(4.0621, abs=1e-3)
    assert result.p_value == pytest.approx(0.002833, abs=1e-6)
    assert result.interval.low == pytest.approx(0.7001142, abs=1e-6)
    assert result.interval.high == pytest.approx(2.4598858, abs=1e-6)
    assert result.significant


def test_zero_variance_flags_exactly_a_non_zero_offset():
    always_ten = paired_bias([(s + 10, s) for s in (60, 70, 80, 90, 75)], min_pairs=MIN_PAIRS)
    assert always_ten.offset == 10 and always_ten.significant and always_ten.p_value == 0.0
    assert always_ten.interval.low == always_ten.interval.high == 10
    always_same = paired_bias([(s, s) for s in (60, 70, 80, 90, 75)], min_pairs=MIN_PAIRS)
    assert always_same.offset == 0 and not always_same.significant and always_same.p_value == 1.0


def test_float_noise_in_a_peer_mean_is_not_spread():
    # (85 + 90 + 80) / 3 is exactly 85 but 0.1 + 0.2 style noise must not turn a constant offset into a t-test
    pairs = [(95.0, (85.0 + 90.0 + 80.0) / 3), (95.3, 85.1 + 0.2), (95.0, 85.0), (95.0, 85.0), (95.0, 85.0)]
    assert paired_bias(pairs, min_pairs=MIN_PAIRS).p_value == 0.0


def test_small_samples_are_never_flagged():
    four = paired_bias([(90, 80)] * 4, min_pairs=MIN_PAIRS)  # a constant +10, but only 4 pairs
    assert not four.significant and four.p_value is None and four.offset == 10
    row = EvaluatorBias(7, "gold", TOTAL, TOTAL, four)
    assert not row.flagged and row.verdict == NOT_ENOUGH_PAIRS
    five = EvaluatorBias(7, "gold", TOTAL, TOTAL, paired_bias([(90, 80)] * 5, min_pairs=MIN_PAIRS))
    assert five.flagged and five.verdict == "scores higher than gold"
    assert paired_bias([], min_pairs=MIN_PAIRS).offset is None


def test_noise_is_not_flagged():
    noise = [(80 + d, 80) for d in (10, -10, 0, 10, -10, 0, 5, -5)]
    row = EvaluatorBias(8, "peers", TOTAL, TOTAL, paired_bias(noise, min_pairs=MIN_PAIRS))
    assert row.enough and not row.flagged and row.verdict == "no clear offset"
    assert row.bias.interval.low < 0 < row.bias.interval.high


def test_periods():
    moment = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert period_of(moment, "month") == "2026-11" and period_of(moment, "quarter") == "2026-Q4"
    assert period_of(datetime(2026, 1, 1), "quarter") == "2026-Q1"  # naive (SQLite) read as UTC


def test_agreement_chart_leaves_gaps_and_names_them_in_its_table():
    good = AlphaCell(krippendorff_alpha_interval(KRIPPENDORFF_2011, level="nominal", resamples=200), 4, None)
    few = AlphaCell(krippendorff_alpha_interval([[1, 2], [1, 2]], level="nominal"), 2, "too few units")
    drawn = chart(QuestionAgreement("greeted", "Greeted <b>", "nominal", {"2026-10": few, "2026-11": good}),
                  ["2026-10", "2026-11"])
    assert drawn.rows[0][:2] == ["2026-10", "too few units"] and drawn.rows[1][1] == "0.74"
    assert "<b>" not in str(drawn.svg) and "&lt;b&gt;" in str(drawn.svg)
    assert str(drawn.svg).count("<circle") == 1
    assert not math.isnan(float(drawn.rows[1][2]))
