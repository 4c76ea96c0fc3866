"""The center's written social-care practice as pure rules (no database): what closes a problem, what needs a
site visit, and when a complaint is treated as not genuine. The service applies them; tests call them directly.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.timeutil import as_utc

_WORDS = re.compile(r"[a-z']+")
THANKS = {"thanks", "thank", "thx", "ty", "cheers", "appreciated", "appreciate", "sorted", "perfect", "great",
          "brilliant", "lovely", "resolved", "fixed", "working", "solved"}
STILL_A_PROBLEM = {"still", "not", "isn't", "doesn't", "don't", "didn't", "won't", "can't", "cannot", "no", "never",
                   "again", "but", "broken", "down", "wrong", "issue", "problem", "help", "waiting", "nothing",
                   "worse", "why", "when", "refund", "complaint"}
SITE_VISIT = re.compile(r"\b(technician|engineer|site visit|home visit|visit|installer|installation|appointment|"
                        r"come out|come round|call[- ]out)\b", re.IGNORECASE)


def is_closing_remark(text: str) -> bool:
    """A customer's message that closes the problem ('thanks, all working now'): thanks or 'fixed' words, no
    question and no sign the problem goes on. Such a message opens no reply clock and stops the follow-up one."""
    words = set(_WORDS.findall(text.lower()))
    return bool(words & THANKS) and not (words & STILL_A_PROBLEM) and "?" not in text


def needs_site_visit(text: str) -> bool:
    """The customer's problem needs someone on site (a technician, an engineer, an appointment)."""
    return SITE_VISIT.search(text) is not None


@dataclass(frozen=True)
class NonGenuineRule:
    follow_ups: int = 3  # the brand's follow-ups after its first reply, the customer silent throughout
    window_hours: float = 72.0  # rolling: the silence since the first reply lasts at least this long
    grace_hours: float = 4.0  # and the customer had this long to answer the last follow-up


def non_genuine_evidence(*, brand_messages: list[datetime], rule: NonGenuineRule,
                         now: datetime) -> list[datetime] | None:
    """The brand's messages since the customer last wrote (first reply first) that make the complaint not
    genuine at `now`, or None.

    The first reply is an answer, not a follow-up: `rule.follow_ups` more messages are needed after it; the
    customer has been silent `rule.window_hours` since the first reply (rolling hours, not calendar days), and
    `rule.grace_hours` since the last counted follow-up. Messages after `now` do not count.
    """
    now = as_utc(now)
    times = sorted(as_utc(t) for t in brand_messages if as_utc(t) <= now)
    if len(times) < rule.follow_ups + 1:
        return None
    first_reply, counted = times[0], times[1:rule.follow_ups + 1]
    if now - first_reply < timedelta(hours=rule.window_hours):
        return None
    if now - counted[-1] < timedelta(hours=rule.grace_hours):
        return None
    return [first_reply, *counted]


def non_genuine_at(*, brand_messages: list[datetime], rule: NonGenuineRule) -> datetime | None:
    """The instant the rule is met for these messages (the customer staying silent), or None if never."""
    times = sorted(as_utc(t) for t in brand_messages)
    if len(times) < rule.follow_ups + 1:
        return None
    counted = times[1:rule.follow_ups + 1]
    return max(times[0] + timedelta(hours=rule.window_hours), counted[-1] + timedelta(hours=rule.grace_hours))
