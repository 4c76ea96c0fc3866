"""Hooks: how a feature hands work to a feature ABOVE it in the layer order (pyproject.toml) without importing it.

The lower feature calls a hook of this catalogue with a typed argument; the feature above that owns the rule
registers the handler in its `app/<feature>/hooks.py`:

    @hooks.SURVEY_ANSWERS_CHANGED.handler
    def open_review_cases(change: hooks.SurveyAnswersChanged) -> int: ...

Every entry point loads those modules with `load_hooks()`: the web app (`create_app`), the worker (`JobQueue`),
the command line (`app/cli.py`), the demo loader and the tests' fixtures. Every hook is required:
`load_hooks()` raises `UnhandledHook` when a hook of the catalogue is left without a handler (so an entry point
that misses one does not start), and so does calling a hook nobody handles — a bad survey rating must never
skip its review case, nor a webhook event vanish, because a module was not imported.

| hook | called by | handled by |
|---|---|---|
| PUBLISH_EVENT | evaluations, reviews, social (the documented outbound events) | connectors (webhook deliveries) |
| SURVEY_ANSWERS_CHANGED | surveys (imports, webhook, manual links) | reviews (a case per bad rating) |
| SOCIAL_THREAD_WRITTEN | ingest (social imports) | social (care clocks and flags) |
| SCORED_EVALUATIONS | scorecards (a draft form's test run) | evaluations |
| AUTO_QA_RULES, CALL_METRICS | nlp (the analysis) | scorecards (published forms' rules), speech (call metrics) |
| CALL_PLAYER | interactions (the call page's player) | speech (recording, transcript, timeline) |
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlmodel import Session

from app.core.security import Principal
from app.core.settings import Settings

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


class UnhandledHook(RuntimeError):
    """A hook has no handler: an entry point did not call `load_hooks()`, or a feature dropped its handler."""


_CATALOGUE: dict[str, "Hook[Any, Any]"] = {}


class Hook(Generic[ArgT, ResultT]):
    """A named call from a lower layer to the handlers a higher one registers (in registration order).
    A `single` hook answers a question: exactly one handler, asked with `ask`."""

    def __init__(self, name: str, *, single: bool = False) -> None:
        if name in _CATALOGUE:
            raise ValueError(f"hook {name!r} is declared twice")
        self.name = name
        self.single = single
        self._handlers: list[Callable[[ArgT], ResultT]] = []
        _CATALOGUE[name] = self

    def handler(self, handler: Callable[[ArgT], ResultT]) -> Callable[[ArgT], ResultT]:
        """Register `handler` (a decorator). Registering the same function again (a re-imported module)
        replaces it; a second, different handler of a single hook raises ValueError."""
        same = [h for h in self._handlers if _identity(h) == _identity(handler)]
        if same:
            self._handlers[self._handlers.index(same[0])] = handler
        elif self.single and self._handlers:
            raise ValueError(f"hook {self.name!r} takes one handler; {_identity(self._handlers[0])} has it")
        else:
            self._handlers.append(handler)
        return handler

    @property
    def handlers(self) -> tuple[Callable[[ArgT], ResultT], ...]:
        return tuple(self._handlers)

    def emit(self, arg: ArgT) -> list[ResultT]:
        """Call every handler with `arg`; their answers in registration order. Raises UnhandledHook if none."""
        self._require()
        return [handler(arg) for handler in self._handlers]

    def ask(self, arg: ArgT) -> ResultT:
        """The answer of a single hook's handler. Raises UnhandledHook if none is registered."""
        assert self.single, f"hook {self.name!r} may have several handlers: use emit()"
        self._require()
        return self._handlers[0](arg)

    @contextmanager
    def handled_by(self, *handlers: Callable[[ArgT], ResultT]) -> Iterator[None]:
        """These handlers instead of the registered ones while the block runs (tests)."""
        saved, self._handlers = self._handlers, list(handlers)
        try:
            yield
        finally:
            self._handlers = saved

    def _require(self) -> None:
        if not self._handlers:
            raise UnhandledHook(f"no handler is registered for hook {self.name!r}: "
                                "the entry point must call app.core.hooks.load_hooks()")


def _identity(handler: Callable[..., Any]) -> str:
    return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"


def catalogue() -> list["Hook[Any, Any]"]:
    return [_CATALOGUE[name] for name in sorted(_CATALOGUE)]


def unhandled() -> list[str]:
    """Names of the hooks nobody handles (in this process)."""
    return [hook.name for hook in catalogue() if not hook.handlers]


def load_hooks() -> None:
    """Import every feature's `hooks.py` (registering its handlers); raise UnhandledHook if a hook of the
    catalogue is still without a handler. Every entry point calls this before it serves or runs anything."""
    from app.core.features import iter_feature_modules

    for _ in iter_feature_modules("hooks"):
        pass
    missing = unhandled()
    if missing:
        raise UnhandledHook(f"no handler is registered for hook(s) {', '.join(missing)}")


# ---------------------------------------------------------------- outbound events (webhooks)

class EventType(StrEnum):
    """The documented outbound events (payloads: app/connectors/webhooks.py)."""

    EVALUATION_SUBMITTED = "evaluation.submitted"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_RESOLVED = "dispute.resolved"
    REVIEW_CASE_OPENED = "review_case.opened"
    ACTION_OVERDUE = "action.overdue"
    SLA_BREACHED = "sla.breached"
    SOCIAL_UNATTENDED_POST = "social.unattended_post"
    ALERT_SPIKE = "alert.spike"


@dataclass(frozen=True)
class Event:
    """Something happened that subscribers outside Earshot hear about; stored in the caller's transaction."""

    session: Session
    type: EventType
    data: dict[str, Any]


PUBLISH_EVENT: Hook[Event, None] = Hook("publish_event")


# ---------------------------------------------------------------- surveys → reviews

@dataclass(frozen=True)
class SurveyAnswersChanged:
    """Survey responses were imported, answered or linked to interactions (flushed, not committed)."""

    session: Session
    response_ids: Sequence[int]


# the handler opens a review case for each response whose rating opens one; answers how many it opened
SURVEY_ANSWERS_CHANGED: Hook[SurveyAnswersChanged, int] = Hook("survey_answers_changed", single=True)


# ---------------------------------------------------------------- ingest → social

@dataclass(frozen=True)
class SocialThreadWritten:
    """Posts were written to a social thread (an interaction of the social channel)."""

    session: Session
    interaction_id: int


SOCIAL_THREAD_WRITTEN: Hook[SocialThreadWritten, None] = Hook("social_thread_written")


# ---------------------------------------------------------------- scorecards → evaluations

@dataclass(frozen=True)
class ScoredEvaluationsQuery:
    session: Session
    scorecard_id: int
    limit: int
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ScoredAnswer:
    question_id: str
    value: Any
    na: bool


@dataclass(frozen=True)
class ScoredEvaluation:
    evaluation_id: int
    interaction_id: int
    scorecard_version_id: int
    submitted_at: datetime | None
    answers: tuple[ScoredAnswer, ...]


# the last `limit` scored evaluations of a scorecard (newest first, calibration ones left out)
SCORED_EVALUATIONS: Hook[ScoredEvaluationsQuery, list[ScoredEvaluation]] = Hook("scored_evaluations", single=True)


# ---------------------------------------------------------------- nlp → scorecards, speech

@dataclass(frozen=True)
class AnalysisSubject:
    session: Session
    interaction_id: int
    channel: str


# {answer key: auto-QA rule (a dict or nlp's rule model)}, merged over the handlers
AUTO_QA_RULES: Hook[AnalysisSubject, Mapping[str, Any]] = Hook("auto_qa_rules")
# {metric name: value} the auto-QA rules read, merged over the handlers
CALL_METRICS: Hook[AnalysisSubject, Mapping[str, float]] = Hook("call_metrics")


# ---------------------------------------------------------------- interactions → speech

@dataclass(frozen=True)
class CallPlayerQuery:
    """A call's page asks for its player: `lines` are the transcript's (speaker, start, end) as shown."""

    session: Session
    principal: Principal
    settings: Settings
    interaction_id: int
    lines: Sequence[tuple[str, float, float]]
    original: bool = False


# what `interactions/_player.html` needs: recording, who may play what, the timeline, transcript facts
CALL_PLAYER: Hook[CallPlayerQuery, dict[str, Any]] = Hook("call_player", single=True)
