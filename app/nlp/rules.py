"""Explainable auto-QA: the rule schema a scorecard question may carry, and `evaluate_rule`, which answers
it from an interaction's analysis with a confidence and the evidence (cited spans, metric values).

Rules are data (JSON/YAML), validated by pydantic with `type` as the discriminator:

    {"type": "phrase", "category": "greeting", "speaker": "agent", "within_seconds": 20}
    {"type": "phrase", "phrase": "is there anything else", "anchor": "end", "within_seconds": 60}
    {"type": "phrase", "category": "supervisor_request", "speaker": "customer", "expect": "absent"}
    {"type": "metric", "metric": "hold_seconds", "op": "<=", "threshold": 120}
    {"type": "empathy_after_negative", "negative_below": -0.3, "within_seconds": 30}
    {"type": "response_time", "max_seconds": 3600, "scope": "first"}

Answers are "yes" (the question's condition holds), "no", or "na" (cannot tell / does not apply).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from spacy.tokens import Doc

from app.nlp.categories import CategoryHit, CategoryRule, CategorySet, build_categories
from app.privacy.pipeline import get_nlp
from app.privacy.timing import char_span_times

Speaker = Literal["agent", "customer", "any"]
AnswerValue = Literal["yes", "no", "na"]


# ---------------------------------------------------------------- what a rule reads


@dataclass
class Hit:
    """A category (or phrase) match inside one unit, with its time range for calls."""

    hit: CategoryHit
    start_time: float
    end_time: float


@dataclass
class Unit:
    """One transcript segment or message, in time order."""

    source_type: str  # "segment" | "message"
    source_id: int
    speaker: str  # "agent" | "customer" | other
    text: str
    start: float  # seconds since the interaction started
    end: float
    sentiment: float | None = 0.0  # None: not available in this unit's language (see app/nlp/sentiment.py)
    language: str | None = None  # app.core.language.detect_language: "en", "yue", "zh" or None
    hits: list[Hit] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)
    doc: Doc | None = None

    def times_of(self, start_char: int, end_char: int) -> tuple[float, float]:
        """The time range of characters [start_char, end_char) of this unit."""
        return char_span_times(text=self.text, words=self.words, start=self.start, end=self.end,
                               start_char=start_char, end_char=end_char)


@dataclass
class Analysis:
    """Everything a rule may read about one interaction."""

    channel: str
    units: list[Unit]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return max((u.end for u in self.units), default=0.0)


# ---------------------------------------------------------------- the answer


class Evidence(BaseModel):
    kind: Literal["span", "metric", "note"]
    source_type: str | None = None
    source_id: int | None = None
    speaker: str | None = None
    start_char: int | None = None
    end_char: int | None = None
    text: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    category: str | None = None
    metric: str | None = None
    value: float | None = None
    note: str | None = None


class AutoAnswer(BaseModel):
    value: AnswerValue
    confidence: float = Field(ge=0, le=1)
    evidence: list[Evidence] = []
    summary: str = ""


# ---------------------------------------------------------------- the rules


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PhraseRule(_Rule):
    """A category or phrase present (or absent) in one side's speech or messages, optionally within
    `within_seconds` of the start (anchor "start") or of the end (anchor "end")."""

    type: Literal["phrase"]
    category: str | None = None
    phrase: str | None = Field(default=None, min_length=1, max_length=200)
    phrases: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=50, description="Any of these phrases.")
    speaker: Speaker = "agent"
    expect: Literal["present", "absent"] = "present"
    within_seconds: float | None = Field(default=None, gt=0)
    anchor: Literal["start", "end"] = "start"

    @model_validator(mode="after")
    def one_target(self) -> "PhraseRule":
        if sum(x is not None for x in (self.category, self.phrase, self.phrases)) != 1:
            raise ValueError("give exactly one of `category`, `phrase` or `phrases`")
        return self

    @property
    def phrase_list(self) -> list[str]:
        return self.phrases if self.phrases is not None else [self.phrase] if self.phrase is not None else []


class MetricRule(_Rule):
    """A call metric compared with a threshold; "yes" when `metric op threshold` holds."""

    type: Literal["metric"]
    metric: str = Field(min_length=1, max_length=100)
    op: Literal["<", "<=", ">", ">="]
    threshold: float


class EmpathyAfterNegativeRule(_Rule):
    """After every customer turn with sentiment below `negative_below`, the agent shows empathy
    (the category) within `within_seconds`."""

    type: Literal["empathy_after_negative"]
    category: str = "empathy"
    negative_below: float = Field(default=-0.3, ge=-1, le=1)
    within_seconds: float = Field(default=30, gt=0)
    when_no_negative: Literal["yes", "na"] = "na"


class ResponseTimeRule(_Rule):
    """Social/chat/e-mail: the agent answers a customer message within `max_seconds` (the first
    customer message, or every one)."""

    type: Literal["response_time"]
    max_seconds: float = Field(gt=0)
    scope: Literal["first", "every"] = "first"


AutoRule = Annotated[PhraseRule | MetricRule | EmpathyAfterNegativeRule | ResponseTimeRule,
                     Field(discriminator="type")]
AUTO_RULE = TypeAdapter(AutoRule)
AutoRuleModel = PhraseRule | MetricRule | EmpathyAfterNegativeRule | ResponseTimeRule


def parse_rule(data: dict[str, Any]) -> AutoRuleModel:
    """Validate a rule given as data (raises pydantic.ValidationError naming the field)."""
    return AUTO_RULE.validate_python(data)


# ---------------------------------------------------------------- evaluation


def evaluate_rule(rule: PhraseRule | MetricRule | EmpathyAfterNegativeRule | ResponseTimeRule,
                  analysis: Analysis) -> AutoAnswer:
    """Answer one rule from an analysis; every answer carries the evidence it rests on."""
    evaluators: dict[type, Callable[[Any, Analysis], AutoAnswer]] = {
        PhraseRule: _phrase, MetricRule: _metric, EmpathyAfterNegativeRule: _empathy,
        ResponseTimeRule: _response_time,
    }
    return evaluators[type(rule)](rule, analysis)


def _span_evidence(unit: Unit, hit: Hit, note: str | None = None) -> Evidence:
    return Evidence(kind="span", source_type=unit.source_type, source_id=unit.source_id, speaker=unit.speaker,
                    start_char=hit.hit.start_char, end_char=hit.hit.end_char, text=hit.hit.text,
                    start_time=hit.start_time, end_time=hit.end_time, category=hit.hit.category, note=note)


@lru_cache(maxsize=256)
def _phrase_matcher(phrases: tuple[str, ...]) -> CategorySet:
    return build_categories([CategoryRule(name="phrase", phrases=list(phrases))])


def _hits_for(rule: PhraseRule, unit: Unit) -> list[Hit]:
    if rule.category is not None:
        return [h for h in unit.hits if h.hit.category == rule.category]
    doc = unit.doc if unit.doc is not None else get_nlp()(unit.text)
    found = _phrase_matcher(tuple(p.lower() for p in rule.phrase_list)).match(doc)
    return [Hit(h, *unit.times_of(h.start_char, h.end_char)) for h in found]


def _phrase(rule: PhraseRule, analysis: Analysis) -> AutoAnswer:
    target = rule.category or " or ".join(f'"{p}"' for p in rule.phrase_list)
    side = "anyone" if rule.speaker == "any" else f"the {rule.speaker}"
    units = [u for u in analysis.units if rule.speaker == "any" or u.speaker == rule.speaker]
    if not units:
        return AutoAnswer(value="na", confidence=0.0, summary=f"no turns by {side}",
                          evidence=[Evidence(kind="note", note=f"no turns by {side}")])
    in_window: list[Evidence] = []
    outside: list[Evidence] = []
    end_of_call = analysis.duration
    for unit in units:
        for hit in _hits_for(rule, unit):
            if rule.within_seconds is None:
                ok = True
            elif rule.anchor == "start":
                ok = hit.start_time <= rule.within_seconds
            else:
                ok = hit.end_time >= end_of_call - rule.within_seconds
            (in_window if ok else outside).append(_span_evidence(unit, hit))
    window = "" if rule.within_seconds is None else (
        f" in the first {rule.within_seconds:g} s" if rule.anchor == "start" else f" in the last {rule.within_seconds:g} s")
    found = bool(in_window)
    value: AnswerValue = "yes" if found == (rule.expect == "present") else "no"
    summary = f"{target} {'found' if found else 'not found'} in what {side} said{window}"
    evidence = in_window or [Evidence(kind="note", note=summary)] + [
        e.model_copy(update={"note": "outside the time window"}) for e in outside[:3]]
    # a cited phrase is strong evidence; absence can also be an ASR miss, so it is less certain
    confidence = 0.9 if found else 0.7
    return AutoAnswer(value=value, confidence=confidence, evidence=evidence, summary=summary)


def _metric(rule: MetricRule, analysis: Analysis) -> AutoAnswer:
    actual = analysis.metrics.get(rule.metric)
    if actual is None:
        return AutoAnswer(value="na", confidence=0.0, summary=f"metric {rule.metric} not available",
                          evidence=[Evidence(kind="note", note=f"metric {rule.metric} not available")])
    holds = {"<": actual < rule.threshold, "<=": actual <= rule.threshold, ">": actual > rule.threshold,
             ">=": actual >= rule.threshold}[rule.op]
    summary = f"{rule.metric} = {actual:g} ({'meets' if holds else 'fails'} {rule.op} {rule.threshold:g})"
    return AutoAnswer(value="yes" if holds else "no", confidence=0.95, summary=summary,
                      evidence=[Evidence(kind="metric", metric=rule.metric, value=actual, note=summary)])


def _empathy(rule: EmpathyAfterNegativeRule, analysis: Analysis) -> AutoAnswer:
    negatives = [u for u in analysis.units
                 if u.speaker == "customer" and u.sentiment is not None and u.sentiment < rule.negative_below]
    if not negatives:
        note = f"no customer turn below {rule.negative_below:g}"
        return AutoAnswer(value=rule.when_no_negative, confidence=0.6, summary=note,
                          evidence=[Evidence(kind="note", note=note)])
    evidence: list[Evidence] = []
    missed = 0
    for negative in negatives:
        evidence.append(Evidence(kind="span", source_type=negative.source_type, source_id=negative.source_id,
                                 speaker="customer", start_char=0, end_char=len(negative.text),
                                 text=negative.text, start_time=negative.start, end_time=negative.end,
                                 value=negative.sentiment, note="negative customer turn"))
        answer = next(((u, h) for u in analysis.units if u.speaker == "agent" and u.start >= negative.start
                       for h in u.hits if h.hit.category == rule.category
                       and negative.end <= h.start_time + 1e-6 <= negative.end + rule.within_seconds + 1e-6), None)
        if answer is None:
            missed += 1
            evidence.append(Evidence(kind="note", note=f"no {rule.category} within {rule.within_seconds:g} s"))
        else:
            evidence.append(_span_evidence(answer[0], answer[1], note="agent response"))
    value: AnswerValue = "yes" if missed == 0 else "no"
    summary = f"{len(negatives) - missed} of {len(negatives)} negative customer turns answered with {rule.category}"
    return AutoAnswer(value=value, confidence=0.75, evidence=evidence, summary=summary)


def _response_time(rule: ResponseTimeRule, analysis: Analysis) -> AutoAnswer:
    delays: list[tuple[Unit, Unit | None, float | None]] = []
    waiting: Unit | None = None
    for unit in analysis.units:
        if unit.speaker == "customer" and waiting is None:
            waiting = unit
        elif unit.speaker == "agent" and waiting is not None:
            delays.append((waiting, unit, unit.start - waiting.start))
            waiting = None
    if waiting is not None:
        delays.append((waiting, None, None))
    if not delays:
        return AutoAnswer(value="na", confidence=0.0, summary="no customer message",
                          evidence=[Evidence(kind="note", note="no customer message")])
    checked = delays[:1] if rule.scope == "first" else delays
    evidence, late = [], 0
    for asked, answered, delay in checked:
        on_time = delay is not None and delay <= rule.max_seconds
        late += 0 if on_time else 1
        evidence.append(Evidence(kind="metric", metric="response_seconds", value=delay,
                                 source_type=asked.source_type, source_id=asked.source_id,
                                 note="unanswered" if answered is None else
                                 f"answered by {answered.source_type} {answered.source_id} after {delay:g} s"))
    summary = f"{len(checked) - late} of {len(checked)} customer messages answered within {rule.max_seconds:g} s"
    return AutoAnswer(value="yes" if late == 0 else "no", confidence=0.95, evidence=evidence, summary=summary)
