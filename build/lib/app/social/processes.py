"""Customer-facing processes of a social thread, and their leading metrics and maturity score (pure).

Processes: brand, lead, sales, order/service, customer service/recovery, cash/billing. A thread is tagged by
keyword rules on the customer's words (first matching process in RULE_ORDER) unless a person set it.

Metrics per process over genuine threads:
- response time: median first-response time (business seconds when business hours are on);
- missed opportunities: share of threads never answered by the team although their target has passed;
- within target: share of answered-or-due threads whose first response met its target;
- engagement (brand, lead, sales): mean likes/shares/replies per thread, over threads whose source reports them
  (left out of the maturity score when no source does);
- first-issue resolution (order/service, customer service, billing): share of threads resolved (in public or
  privately) without the customer having to post again after the team's first answer;
- quality of response: mean evaluation score (0-100) when evaluations with the social scorecard exist.

Maturity (0-100) = weighted mean of the components available, weights renormalised over those present:
  speed 0.3 × within-target share, coverage 0.3 × (1 - missed share),
  outcome 0.25 × first-issue resolution (service processes) or engagement score = min(1, log10(1 + mean)/3)
  (brand, lead, sales), quality 0.15 × evaluation score/100.
"""

import math
import re
from dataclasses import dataclass
from statistics import median

PROCESSES: dict[str, str] = {
    "brand": "Brand", "lead": "Lead", "sales": "Sales", "order_service": "Order / service",
    "customer_service": "Customer service / recovery", "billing": "Cash / billing",
}
SERVICE_PROCESSES = frozenset({"order_service", "customer_service", "billing"})
ENGAGEMENT_PROCESSES = frozenset({"brand", "lead", "sales"})
DEFAULT_PROCESS = "customer_service"
RULES: dict[str, tuple[str, ...]] = {
    "billing": ("bill", "billed", "charge", "charged", "refund", "payment", "invoice", "overcharged", "direct debit",
                "paid twice", "money back"),
    "order_service": ("order", "delivery", "delivered", "parcel", "tracking", "install", "installation",
                      "engineer visit", "appointment", "dispatch"),
    "customer_service": ("down", "outage", "broken", "not working", "fault", "no signal", "no internet", "slow",
                         "keeps dropping", "complaint", "useless", "terrible", "awful"),
    "sales": ("buy", "upgrade", "offer", "deal", "package", "contract", "discount", "price plan"),
    "lead": ("interested", "quote", "how much", "sign up", "switch to you", "available in my area", "availability"),
    "brand": ("love", "thanks", "thank you", "great", "awesome", "amazing", "ad ", "campaign", "well done"),
}
RULE_ORDER = ("billing", "order_service", "customer_service", "sales", "lead", "brand")
WEIGHTS = {"speed": 0.3, "coverage": 0.3, "outcome": 0.25, "quality": 0.15}


def classify(text: str) -> str:
    """The process the customer's words point to (DEFAULT_PROCESS when no rule matches)."""
    lowered = " " + re.sub(r"\s+", " ", text.lower()) + " "
    for process in RULE_ORDER:
        for keyword in RULES[process]:
            if re.search(r"(?<![a-z])" + re.escape(keyword.strip()) + r"(?![a-z])", lowered):
                return process
    return DEFAULT_PROCESS


@dataclass(frozen=True)
class ThreadFacts:
    process: str
    answered: bool
    response_seconds: float | None
    within_target: bool | None  # None while the first-response clock is still pending
    engagement: int | None  # None when the source reports no engagement figures
    resolved: bool
    customer_posted_again: bool
    quality: float | None = None  # evaluation score 0-100


@dataclass(frozen=True)
class ProcessMetrics:
    process: str
    threads: int
    median_response_seconds: float | None
    missed_share: float | None
    within_target_share: float | None
    engagement_mean: float | None
    first_issue_resolution: float | None
    quality_mean: float | None
    maturity: float | None


def engagement_score(mean: float) -> float:
    return min(1.0, math.log10(1 + max(0.0, mean)) / 3)


def process_metrics(process: str, threads: list[ThreadFacts]) -> ProcessMetrics:
    """The leading metrics and the maturity score of one process (see the module docstring for the formula)."""
    n = len(threads)
    if n == 0:
        return ProcessMetrics(process, 0, None, None, None, None, None, None, None)
    times = [t.response_seconds for t in threads if t.response_seconds is not None]
    judged = [t.within_target for t in threads if t.within_target is not None]
    missed = sum(not t.answered and t.within_target is not None for t in threads) / n  # past due, unanswered
    within = sum(judged) / len(judged) if judged else None
    reported = [t.engagement for t in threads if t.engagement is not None]
    engagement = (sum(reported) / len(reported) if reported and process in ENGAGEMENT_PROCESSES else None)
    fir = (sum(t.resolved and not t.customer_posted_again for t in threads) / n
           if process in SERVICE_PROCESSES else None)
    qualities = [t.quality for t in threads if t.quality is not None]
    quality = sum(qualities) / len(qualities) if qualities else None
    components = {
        "speed": within,
        "coverage": 1 - missed,
        "outcome": fir if process in SERVICE_PROCESSES else (
            engagement_score(engagement) if engagement is not None else None),
        "quality": quality / 100 if quality is not None else None,
    }
    present = {k: v for k, v in components.items() if v is not None}
    total_weight = sum(WEIGHTS[k] for k in present)
    maturity = round(100 * sum(WEIGHTS[k] * v for k, v in present.items()) / total_weight, 1) if present else None
    return ProcessMetrics(process=process, threads=n, median_response_seconds=median(times) if times else None,
                          missed_share=missed, within_target_share=within, engagement_mean=engagement,
                          first_issue_resolution=fir, quality_mean=quality, maturity=maturity)
