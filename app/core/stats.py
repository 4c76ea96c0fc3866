"""Statistics that say how sure a QA number is.

Every average score Earshot shows comes with an interval: a Student-t interval on the mean (the scores of
one agent in one period are few and roughly bell-shaped; with fewer than `MIN_N` evaluations, or an interval
wider than `MAX_HALF_WIDTH` points, the answer is "not enough evaluations to say"). Pass rates of single
questions use the Wilson score interval, which behaves at 0 % and 100 % and with small n. Comparisons with a
target and rankings are only made when intervals support them.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import numpy as np

MIN_N = 3
MAX_HALF_WIDTH = 10.0  # score points on the 0-100 scale
NOT_ENOUGH = "not enough evaluations to say"
Level = Literal["nominal", "ordinal", "interval", "ratio"]



def _st() -> Any:
    """scipy.stats, imported on first use (it costs ~0.8 s, and most processes never need it)."""
    from scipy import stats

    return stats


@dataclass(frozen=True)
class Interval:
    estimate: float | None
    low: float | None
    high: float | None
    n: int
    confidence: float
    method: str

    @property
    def half_width(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / 2

    def conclusive(self, max_half_width: float = MAX_HALF_WIDTH) -> bool:
        return self.half_width is not None and self.n >= MIN_N and self.half_width <= max_half_width

    def describe(self, digits: int = 1, max_half_width: float = MAX_HALF_WIDTH) -> str:
        if self.estimate is None:
            return NOT_ENOUGH
        if not self.conclusive(max_half_width):
            return f"{self.estimate:.{digits}f} ({NOT_ENOUGH}, n={self.n})"
        return (f"{self.estimate:.{digits}f} ({self.confidence:.0%} CI {self.low:.{digits}f}–{self.high:.{digits}f},"
                f" n={self.n}, {self.method})")


def mean_interval(values: Sequence[float], *, confidence: float = 0.95) -> Interval:
    """Student-t interval on the mean. n=1: no interval. All values equal: a zero-width interval (the data
    show no spread; with few values `conclusive()` still refuses when n < MIN_N)."""
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n == 0:
        return Interval(None, None, None, 0, confidence, "t")
    mean = float(data.mean())
    if n == 1:
        return Interval(mean, None, None, 1, confidence, "t")
    sd = float(data.std(ddof=1))
    half = float(_st().t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n, confidence, "t")


def bootstrap_interval(values: Sequence[float], *, confidence: float = 0.95, resamples: int = 2000,
                       seed: int = 7) -> Interval:
    """Percentile bootstrap on the mean, for skewed scores (deterministic with the seed)."""
    data = np.asarray(values, dtype=float)
    n = int(data.size)
    if n < 2:
        return mean_interval(values, confidence=confidence)
    if float(data.std()) == 0.0:
        return Interval(float(data.mean()), float(data.mean()), float(data.mean()), n, confidence, "bootstrap")
    result = _st().bootstrap((data,), np.mean, confidence_level=confidence, n_resamples=resamples,
                          method="percentile", random_state=np.random.default_rng(seed))
    return Interval(float(data.mean()), float(result.confidence_interval.low),
                    float(result.confidence_interval.high), n, confidence, "bootstrap")


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a proportion (e.g. how often a question is passed)."""
    if n <= 0:
        return Interval(None, None, None, 0, confidence, "wilson")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    z = float(_st().norm.ppf((1 + confidence) / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n, confidence, "wilson")


class TargetVerdict(StrEnum):
    BELOW = "below target"
    ABOVE = "above target"
    INCONCLUSIVE = "cannot tell"
    NOT_ENOUGH = NOT_ENOUGH


def compare_to_target(interval: Interval, target: float, *, max_half_width: float = MAX_HALF_WIDTH
                      ) -> TargetVerdict:
    """'below target' only when the whole interval is under the target (and the interval is usable)."""
    if not interval.conclusive(max_half_width):
        return TargetVerdict.NOT_ENOUGH
    assert interval.low is not None and interval.high is not None
    if interval.high < target:
        return TargetVerdict.BELOW
    if interval.low > target:
        return TargetVerdict.ABOVE
    return TargetVerdict.INCONCLUSIVE


def rank_groups(intervals: dict[str, Interval]) -> list[list[str]]:
    """Order names by estimate, grouping those whose intervals overlap the group's leader: a ranking only
    separates names whose intervals do not overlap. Inconclusive intervals are left out."""
    usable = sorted(((name, iv) for name, iv in intervals.items() if iv.conclusive()),
                    key=lambda item: -(item[1].estimate or 0.0))
    groups: list[list[str]] = []
    leader_low: float | None = None
    for name, iv in usable:
        assert iv.high is not None and iv.low is not None
        if groups and leader_low is not None and iv.high >= leader_low:
            groups[-1].append(name)
        else:
            groups.append([name])
            leader_low = iv.low
    return groups


@dataclass(frozen=True)
class SampleSizePlan:
    per_agent: int
    margin: float
    confidence: float
    sd: float
    note: str


def plan_sample_size(*, sd: float, margin: float, confidence: float = 0.95, max_n: int = 1000) -> SampleSizePlan:
    """Evaluations per agent per period so the t-interval half-width is at most `margin` points, given the
    observed spread `sd`: the smallest n with t(n-1) * sd / sqrt(n) <= margin (found by iteration)."""
    if margin <= 0:
        raise ValueError("margin must be positive")
    if sd <= 0:
        return SampleSizePlan(MIN_N, margin, confidence, sd, "no spread observed yet; the minimum is suggested")
    for n in range(2, max_n + 1):
        if float(_st().t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n) <= margin:
            n = max(n, MIN_N)
            return SampleSizePlan(n, margin, confidence, sd,
                                  f"{n} evaluations give ±{margin:g} points at {confidence:.0%} with sd {sd:.1f}")
    return SampleSizePlan(max_n, margin, confidence, sd, f"more than {max_n} evaluations would be needed")


@dataclass(frozen=True)
class BiasEstimate:
    offset: float | None
    interval: Interval
    n_pairs: int
    p_value: float | None
    significant: bool
    method: str


def paired_bias(pairs: Sequence[tuple[float, float]], *, alpha: float = 0.05, min_pairs: int = MIN_N) -> BiasEstimate:
    """An evaluator's mean offset against a reference on the same interactions.

    Each pair is (this evaluator's score, the reference score) for one interaction, where the reference is the
    calibration gold answer or the mean of the other evaluators. The offset's t-interval and a one-sample t-test
    of the differences against 0 (a paired t-test) say whether it is more than noise; flagged only when
    p < alpha with at least `min_pairs` pairs (fewer: no p-value, never flagged). When every difference is the
    same the test is degenerate (sd 0): flagged exactly when that difference is not 0.
    Differences are rounded to 6 decimals so float noise in means (e.g. 85.00000000000001) is not read as spread.
    """
    differences = [round(a - b, 6) for a, b in pairs]
    interval = mean_interval(differences)
    n = len(differences)
    if n < max(min_pairs, 2):
        return BiasEstimate(interval.estimate, interval, n, None, False, "paired t-test")
    if len(set(differences)) == 1:
        offset = differences[0]
        return BiasEstimate(offset, interval, n, 0.0 if offset != 0 else 1.0, offset != 0, "paired t-test")
    result = _st().ttest_1samp(differences, 0.0)
    p_value = float(result.pvalue)
    return BiasEstimate(interval.estimate, interval, n, p_value, p_value < alpha, "paired t-test")


def _matrix(reliability_data: Sequence[Sequence[float | None]]) -> Any:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in reliability_data], dtype=float)


NO_PAIRABLE = "no interaction rated by two evaluators"
NO_VARIATION = "no variation"


def alpha_undefined_reason(reliability_data: Sequence[Sequence[float | None]]) -> str | None:
    """Why alpha cannot be computed, or None when it can: fewer than two raters or no unit with two ratings
    (NO_PAIRABLE), or every rating the same value (NO_VARIATION: perfect but uninformative agreement, where
    the expected disagreement De is 0 and alpha = 1 - Do/De is 0/0)."""
    matrix = _matrix(reliability_data)
    if matrix.ndim != 2 or matrix.shape[0] < 2 or (np.sum(~np.isnan(matrix), axis=0) >= 2).sum() == 0:
        return NO_PAIRABLE
    pairable = matrix[:, np.sum(~np.isnan(matrix), axis=0) >= 2]
    if np.unique(pairable[~np.isnan(pairable)]).size < 2:
        return NO_VARIATION
    return None


def krippendorff_alpha(reliability_data: Sequence[Sequence[float | None]], *, level: Level = "interval") -> float | None:
    """Krippendorff's alpha; rows are raters, columns units; None (or NaN) marks a missing rating.
    None when alpha is undefined (see `alpha_undefined_reason`)."""
    import krippendorff

    if alpha_undefined_reason(reliability_data) is not None:
        return None
    try:
        value = float(krippendorff.alpha(reliability_data=_matrix(reliability_data), level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        return None
    return None if math.isnan(value) else value


MIN_UNITS = 3
TOO_FEW_UNITS = "too few units"


def _unit_coincidences(matrix: Any) -> tuple[Any, Any]:
    """Per pairable unit, its coincidence matrix (Krippendorff 2011, section B): with c_v the count of value v
    in a unit of m values, the unit adds (c c^T - diag(c)) / (m - 1). Returns (values, units × V × V)."""
    values = np.unique(matrix[~np.isnan(matrix)])
    index = {float(v): i for i, v in enumerate(values)}
    units = []
    for column in matrix.T:
        present = column[~np.isnan(column)]
        counts = np.zeros(values.size)
        for value in present:
            counts[index[float(value)]] += 1
        units.append((np.outer(counts, counts) - np.diag(counts)) / (present.size - 1))
    return values, np.array(units)


def _alpha_from_coincidences(coincidences: Any, values: Any, level: Level) -> Any:
    """alpha = 1 - (n - 1) * sum o_ck d2_ck / sum n_c n_k d2_ck for a stack of coincidence matrices
    (R × V × V), with Krippendorff's difference functions; NaN where the expected disagreement is 0."""
    marginals = coincidences.sum(axis=2)  # R × V
    total = marginals.sum(axis=1)
    if level == "ordinal":
        ar = np.arange(values.size)
        lo, hi = np.minimum.outer(ar, ar), np.maximum.outer(ar, ar)
        cumulative = np.cumsum(marginals, axis=1)
        between = cumulative[:, hi] - cumulative[:, lo] + marginals[:, lo]
        delta2 = (between - (marginals[:, :, None] + marginals[:, None, :]) / 2) ** 2
    else:
        c, k = np.meshgrid(values, values, indexing="ij")
        if level == "nominal":
            fixed = (c != k).astype(float)
        elif level == "interval":
            fixed = (c - k) ** 2
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                fixed = np.nan_to_num(((c - k) / (c + k)) ** 2)
        delta2 = np.broadcast_to(fixed, coincidences.shape)
    observed = (coincidences * delta2).sum(axis=(1, 2))
    expected = np.einsum("rc,rk,rck->r", marginals, marginals, delta2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - (total - 1) * observed / expected, np.nan)


def bootstrap_alphas(matrix: Any, *, level: Level, resamples: int, seed: int) -> Any:
    """Alpha of `resamples` bootstrap samples of the pairable units (columns) of a raters × units matrix, all
    at once: a resample's coincidence matrix is the weighted sum of its units' (weights = how often each unit
    was drawn), so no resample is recomputed from raw data. NaN where alpha is undefined."""
    values, per_unit = _unit_coincidences(matrix)
    units = per_unit.shape[0]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, units, size=(resamples, units))
    weights = np.zeros((resamples, units))
    np.add.at(weights, (np.arange(resamples)[:, None], draws), 1.0)
    stacked = (weights @ per_unit.reshape(units, -1)).reshape(resamples, values.size, values.size)
    return _alpha_from_coincidences(stacked, values, level)


MIN_UNITS = 3
TOO_FEW_UNITS = "too few units"


def krippendorff_alpha_interval(reliability_data: Sequence[Sequence[float | None]], *, level: Level = "interval",
                                confidence: float = 0.95, resamples: int = 1000, seed: int = 7) -> Interval:
    """Alpha with a bootstrap interval over units (interactions), as Hayes & Krippendorff (2007) suggest
    resampling units; the pairable units (rated at least twice) are resampled with replacement and alpha
    recomputed (`bootstrap_alphas`); resamples where alpha is undefined (one value only) are skipped. `n` is
    the number of pairable units; with fewer than MIN_UNITS, or when most resamples are undefined, there is no
    interval. Deterministic with the seed."""
    matrix = _matrix(reliability_data)
    point = krippendorff_alpha(reliability_data, level=level)
    if matrix.ndim != 2 or matrix.size == 0:
        return Interval(point, None, None, 0, confidence, "bootstrap over units")
    matrix = matrix[:, np.sum(~np.isnan(matrix), axis=0) >= 2]
    units = int(matrix.shape[1])
    if point is None or units < MIN_UNITS:
        return Interval(point, None, None, units, confidence, "bootstrap over units")
    samples = bootstrap_alphas(matrix, level=level, resamples=resamples, seed=seed)
    samples = samples[~np.isnan(samples)]
    if samples.size < resamples // 2:
        return Interval(point, None, None, units, confidence, "bootstrap over units")
    low, high = np.quantile(samples, [(1 - confidence) / 2, (1 + confidence) / 2])
    return Interval(point, float(low), float(high), units, confidence, "bootstrap over units")
