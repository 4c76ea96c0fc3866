"""Pure statistics of social care: fairness by follower band, and negativity spikes against a baseline."""

import math
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from scipy.stats import mannwhitneyu, norm

# (label, lower bound inclusive, upper bound exclusive)
FOLLOWER_BANDS: tuple[tuple[str, int, float], ...] = (
    ("<1k", 0, 1_000), ("1k–10k", 1_000, 10_000), ("10k–100k", 10_000, 100_000), ("≥100k", 100_000, math.inf),
)
HIGH_FOLLOWER_THRESHOLD = 10_000
FAIRNESS_ALPHA = 0.05
FAIRNESS_TEST = ("Mann-Whitney U, one-sided: are first-response times of authors with ≥10k followers "
                 "stochastically smaller than those of authors with fewer? Flag when p < 0.05 and the "
                 "high-follower median is at most 80% of the others'.")
FAIRNESS_MEDIAN_RATIO = 0.8


def follower_band(followers: int | None) -> str:
    count = max(0, followers or 0)
    for label, low, high in FOLLOWER_BANDS:
        if low <= count < high:
            return label
    return FOLLOWER_BANDS[-1][0]


@dataclass(frozen=True)
class ResponseSample:
    followers: int | None
    response_seconds: float  # first post → first response; unanswered: the wait so far (at least this)
    within_sla: bool
    answered: bool = True
    non_genuine: bool = False


@dataclass(frozen=True)
class BandRow:
    band: str
    threads: int
    median_seconds: float | None
    share_within_sla: float | None
    unanswered: int = 0
    late: int = 0  # answered after the target, or still unanswered past it
    non_genuine: int = 0  # included in every figure of the row, and counted here as well


@dataclass(frozen=True)
class FairnessReport:
    bands: list[BandRow]
    high_median_seconds: float | None
    low_median_seconds: float | None
    u_statistic: float | None
    p_value: float | None
    flagged: bool
    test: str = FAIRNESS_TEST


def fairness_report(samples: list[ResponseSample]) -> FairnessReport:
    """Response time by follower band, and whether high-follower authors are answered significantly faster.

    Unanswered posts take part with their wait so far (a lower bound: a post left unanswered ranks slow)."""
    rows = []
    for label, _, _ in FOLLOWER_BANDS:
        band = [s for s in samples if follower_band(s.followers) == label]
        rows.append(BandRow(
            band=label, threads=len(band),
            median_seconds=median(s.response_seconds for s in band) if band else None,
            share_within_sla=sum(s.within_sla for s in band) / len(band) if band else None,
            unanswered=sum(not s.answered for s in band), late=sum(not s.within_sla for s in band),
            non_genuine=sum(s.non_genuine for s in band)))
    high = [s.response_seconds for s in samples if (s.followers or 0) >= HIGH_FOLLOWER_THRESHOLD]
    low = [s.response_seconds for s in samples if (s.followers or 0) < HIGH_FOLLOWER_THRESHOLD]
    u_stat = p_value = None
    flagged = False
    high_median = median(high) if high else None
    low_median = median(low) if low else None
    if len(high) >= 3 and len(low) >= 3:
        result = mannwhitneyu(high, low, alternative="less")
        u_stat, p_value = float(result.statistic), float(result.pvalue)
        assert high_median is not None and low_median is not None
        flagged = p_value < FAIRNESS_ALPHA and high_median <= FAIRNESS_MEDIAN_RATIO * low_median
    return FairnessReport(bands=rows, high_median_seconds=high_median, low_median_seconds=low_median,
                          u_statistic=u_stat, p_value=p_value, flagged=flagged)


SPIKE_BASELINE_HOURS = 7 * 24
SPIKE_SIGMAS = 3.0
SPIKE_MIN_COUNT = 3
_RULE = (f"is at least {SPIKE_MIN_COUNT} and above mean + {SPIKE_SIGMAS:g}·sd of the previous {SPIKE_BASELINE_HOURS} "
         "hourly counts of the same platform (hours with no posts count as 0).")
SPIKE_TEST = f"An hour is a spike when its count of negative customer posts (VADER compound ≤ -0.05) {_RULE}"
VOLUME_SPIKE_TEST = f"An hour is a volume spike when its count of customer posts {_RULE}"


@dataclass(frozen=True)
class Spike:
    hour: datetime
    count: int
    baseline_mean: float
    baseline_sd: float
    threshold: float


def detect_spikes(hourly: list[tuple[datetime, int]], *, baseline_hours: int = SPIKE_BASELINE_HOURS,
                  sigmas: float = SPIKE_SIGMAS, min_count: int = SPIKE_MIN_COUNT,
                  from_index: int = 0) -> list[Spike]:
    """`hourly`: consecutive hours (no gaps) with their counts. Hours from `from_index` are judged against the
    trailing `baseline_hours` before them (fewer at the start of the series)."""
    spikes = []
    for index in range(max(from_index, 1), len(hourly)):
        hour, count = hourly[index]
        if count < min_count:
            continue
        window = [c for _, c in hourly[max(0, index - baseline_hours):index]]
        mean = sum(window) / len(window)
        sd = math.sqrt(sum((c - mean) ** 2 for c in window) / len(window))
        threshold = mean + sigmas * sd
        if count > threshold:
            spikes.append(Spike(hour=hour, count=count, baseline_mean=mean, baseline_sd=sd, threshold=threshold))
    return spikes


SHARE_BASELINE_DAYS = 28
SHARE_MIN_POSTS = 10
SHARE_MIN_RISE = 0.15
SHARE_ALPHA = 0.001
SHARE_TEST = (f"A day is a negativity spike when at least {SHARE_MIN_POSTS} customer posts came in, its share of "
              f"negative posts is at least {SHARE_MIN_RISE:.0%} above the previous {SHARE_BASELINE_DAYS} days' share, "
              f"and a one-sided two-proportion z-test gives p < {SHARE_ALPHA}.")


@dataclass(frozen=True)
class ShareSpike:
    day: datetime
    negatives: int
    total: int
    share: float
    baseline_share: float
    z: float
    p_value: float


def detect_share_spikes(daily: list[tuple[datetime, int, int]], *, baseline_days: int = SHARE_BASELINE_DAYS,
                        from_index: int = 0) -> list[ShareSpike]:
    """`daily`: consecutive days with (day, negative posts, all posts). Each day from `from_index` is tested
    against the pooled share of the previous `baseline_days`."""
    spikes = []
    for index in range(max(from_index, 1), len(daily)):
        day, negatives, total = daily[index]
        window = daily[max(0, index - baseline_days):index]
        base_neg, base_total = sum(n for _, n, _ in window), sum(t for _, _, t in window)
        if total < SHARE_MIN_POSTS or base_total == 0:
            continue
        share, base_share = negatives / total, base_neg / base_total
        pooled = (negatives + base_neg) / (total + base_total)
        se = math.sqrt(pooled * (1 - pooled) * (1 / total + 1 / base_total))
        if se == 0 or share - base_share < SHARE_MIN_RISE:
            continue
        z = (share - base_share) / se
        p_value = float(norm.sf(z))
        if p_value < SHARE_ALPHA:
            spikes.append(ShareSpike(day=day, negatives=negatives, total=total, share=share,
                                     baseline_share=base_share, z=z, p_value=p_value))
    return spikes
