"""A scorecard form as data: the pydantic schema of a form and the rules a form must obey.

A form is: name, description, the channels it applies to, sections → questions. `parse_form` checks the
structure (pydantic) and then the cross-field rules (`form_problems`), and reports every problem with its
field path, e.g. `sections[1].questions[2].options: at least two options required`. `parse_form_yaml`
adds the YAML line of each problem.

Answer values by question type: yes_no → bool; scale → int in [min, max]; choice → an option's `value`
(str); comment → free text (never scored).
"""

import re
from collections.abc import Sequence
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.core.errors import InvalidInput
from app.interactions.models import Channel

QuestionType = Literal["yes_no", "scale", "choice", "comment"]
SCORED_TYPES = ("yes_no", "scale", "choice")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
DEFAULT_DISPUTE_WINDOW_DAYS = 7


class FormModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Option(FormModel):
    value: str = Field(min_length=1, max_length=80)
    label: str = ""
    points: float = 0.0
    fails_critical: bool = Field(default=False, description="Choosing it fails a critical question.")


class Condition(FormModel):
    """Show the question only when the answer to `question_id` equals `equals`."""

    question_id: str
    equals: bool | int | str


class AutoAnswer(FormModel):
    """Placeholder for the auto-QA rule that can pre-fill this answer (filled by the auto-QA feature)."""

    rule: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)


class Question(FormModel):
    id: str
    text: str = Field(min_length=1, max_length=1000)
    type: QuestionType
    points: float | None = Field(default=None, description="Max points (yes_no, scale); default 1.")
    na_allowed: bool = False
    critical: bool = False
    critical_scope: Literal["form", "section"] = "form"
    condition: Condition | None = None
    guidance: str = ""
    required: bool | None = Field(default=None, description="Default: true for scored questions, false for comments.")
    min: int | None = None
    max: int | None = None
    labels: dict[int, str] | None = None
    options: list[Option] | None = None
    auto_answer: AutoAnswer | None = None

    @property
    def scored(self) -> bool:
        return self.type in SCORED_TYPES

    @property
    def is_required(self) -> bool:
        return self.scored if self.required is None else self.required

    @property
    def max_points(self) -> float:
        """The points a perfect answer earns."""
        if self.type == "choice":
            return max((o.points for o in self.options or []), default=0.0)
        if self.type == "comment":
            return 0.0
        return 1.0 if self.points is None else self.points

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options or [] if o.value == value), None)


class Section(FormModel):
    id: str
    title: str = Field(min_length=1, max_length=300)
    weight: float | None = Field(default=None, description="Relative weight; omit on every section to weigh by points.")
    questions: list[Question]


class ScorecardForm(FormModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)  # channels stay plain strings in YAML/JSON

    key: str = Field(description="Stable identifier of the form across versions, e.g. voice_call.")
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    channels: list[Channel]
    dispute_window_days: int = DEFAULT_DISPUTE_WINDOW_DAYS
    dispute_resolved_by_other: bool = Field(
        default=True, description="A dispute is resolved by someone other than the evaluator who scored it.")
    sections: list[Section]

    def questions(self) -> list[tuple[Section, Question]]:
        return [(s, q) for s in self.sections for q in s.questions]

    def question(self, question_id: str) -> Question | None:
        return next((q for _, q in self.questions() if q.id == question_id), None)


# ---------------------------------------------------------------- paths and problems

Loc = tuple[str | int, ...]


def format_loc(loc: Sequence[str | int]) -> str:
    """('sections', 1, 'questions', 2, 'options') → 'sections[1].questions[2].options'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(form)"


def _q_loc(si: int, qi: int, *rest: str | int) -> Loc:
    return ("sections", si, "questions", qi, *rest)


def _check_question(q: Question, si: int, qi: int) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []

    def add(msg: str, *field: str | int) -> None:
        problems.append((_q_loc(si, qi, *field), msg))

    if not ID_PATTERN.match(q.id):
        add("must be lower-case letters, digits and _ (starting with a letter, at most 80)", "id")
    if q.points is not None and q.points < 0:
        add("must be >= 0", "points")
    if q.type != "scale" and (q.min is not None or q.max is not None or q.labels is not None):
        add("only scale questions have min/max/labels", "min" if q.min is not None else
            "max" if q.max is not None else "labels")
    if q.type != "choice" and q.options is not None:
        add("only choice questions have options", "options")
    if q.type == "scale":
        if q.min is None or q.max is None:
            add("a scale question needs min and max", "min" if q.min is None else "max")
        elif q.max <= q.min:
            add("must be greater than min", "max")
        elif q.max - q.min > 100:
            add("a scale has at most 101 steps", "max")
        elif q.labels:
            for value in q.labels:
                if not q.min <= value <= q.max:
                    add(f"label for {value} is outside {q.min}..{q.max}", "labels")
    if q.type == "choice":
        options = q.options or []
        if len(options) < 2:
            add("at least two options required", "options")
        seen: set[str] = set()
        for oi, option in enumerate(options):
            if option.value in seen:
                add(f"duplicate option value {option.value!r}", "options", oi, "value")
            seen.add(option.value)
            if option.points < 0:
                add("must be >= 0", "options", oi, "points")
        if q.points is not None:
            add("choice questions take their points from the options", "points")
    if q.type == "comment":
        if q.critical:
            add("a free-text (comment) question cannot be critical", "critical")
        if q.points:
            add("comment questions are not scored", "points")
        if q.na_allowed:
            add("comment questions cannot be N/A (leave them empty)", "na_allowed")
    if q.critical and q.type == "scale":
        add("a critical question must be yes_no or choice (a clear pass/fail)", "critical")
    if q.critical and q.type == "choice" and not any(o.fails_critical for o in q.options or []):
        add("a critical choice question needs an option with fails_critical: true", "options")
    if not q.critical and any(o.fails_critical for o in q.options or []):
        add("fails_critical is only meaningful on a critical question", "options")
    return problems


def _check_condition(q: Question, target: Question | None, si: int, qi: int, earlier: set[str],
                     all_ids: set[str]) -> list[tuple[Loc, str]]:
    assert q.condition is not None
    loc = _q_loc(si, qi, "condition", "question_id")
    ref = q.condition.question_id
    if ref == q.id:
        return [(loc, "a question cannot depend on itself")]
    if ref not in all_ids or target is None:
        return [(loc, f"unknown question {ref!r}")]
    if ref not in earlier:
        return [(loc, f"question {ref!r} comes later in the form; a condition must refer to an earlier question")]
    equals_loc = _q_loc(si, qi, "condition", "equals")
    value = q.condition.equals
    if target.type == "comment":
        return [(loc, "a condition cannot refer to a comment question")]
    if target.type == "yes_no" and not isinstance(value, bool):
        return [(equals_loc, "must be true/false (yes/no) for a yes_no question")]
    if target.type == "scale" and (isinstance(value, bool) or not isinstance(value, int)
                                   or target.min is None or target.max is None
                                   or not target.min <= value <= target.max):
        return [(equals_loc, f"must be an integer in {target.min}..{target.max}")]
    if target.type == "choice" and (not isinstance(value, str) or target.option(value) is None):
        return [(equals_loc, f"must be one of the options of {ref!r}")]
    return []


def form_problems(form: ScorecardForm) -> list[tuple[Loc, str]]:
    """Every cross-field rule a structurally valid form breaks, with field paths (empty: the form is good)."""
    problems: list[tuple[Loc, str]] = []
    if not ID_PATTERN.match(form.key):
        problems.append((("key",), "must be lower-case letters, digits and _ (starting with a letter)"))
    if not form.channels:
        problems.append((("channels",), "at least one channel required"))
    if len(set(form.channels)) != len(form.channels):
        problems.append((("channels",), "duplicate channel"))
    if form.dispute_window_days < 0 or form.dispute_window_days > 365:
        problems.append((("dispute_window_days",), "must be between 0 and 365"))
    if not form.sections:
        problems.append((("sections",), "at least one section required"))
    weights_set = [s.weight is not None for s in form.sections]
    if any(weights_set) and not all(weights_set):
        first = weights_set.index(False)
        problems.append((("sections", first, "weight"),
                         "set a weight on every section or on none (then sections weigh by their points)"))
    section_ids: set[str] = set()
    all_ids = {q.id for _, q in form.questions()}
    earlier: set[str] = set()
    seen_ids: dict[str, str] = {}
    total_possible = 0.0
    by_id = {q.id: q for _, q in form.questions()}
    for si, section in enumerate(form.sections):
        if not ID_PATTERN.match(section.id):
            problems.append((("sections", si, "id"), "must be lower-case letters, digits and _"))
        if section.id in section_ids:
            problems.append((("sections", si, "id"), f"duplicate section id {section.id!r}"))
        section_ids.add(section.id)
        if section.weight is not None and section.weight < 0:
            problems.append((("sections", si, "weight"), "must be >= 0"))
        if not section.questions:
            problems.append((("sections", si, "questions"), "at least one question required"))
        for qi, question in enumerate(section.questions):
            if question.id in seen_ids:
                problems.append((_q_loc(si, qi, "id"),
                                 f"duplicate question id {question.id!r} (first used at {seen_ids[question.id]})"))
            else:
                seen_ids[question.id] = format_loc(_q_loc(si, qi))
            problems.extend(_check_question(question, si, qi))
            if question.condition is not None:
                problems.extend(_check_condition(question, by_id.get(question.condition.question_id), si, qi,
                                                 earlier, all_ids))
            earlier.add(question.id)
            total_possible += max(question.max_points, 0.0)
    if form.sections and total_possible <= 0:
        problems.append((("sections",), "no question carries points: the form cannot produce a score"))
    elif weights_set and all(weights_set) and not any((s.weight or 0) > 0 for s in form.sections):
        problems.append((("sections",), "every section weight is 0: the form cannot produce a score"))
    return problems


# ---------------------------------------------------------------- parsing

def _pydantic_problems(exc: ValidationError) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for error in exc.errors():
        loc = tuple(p for p in error.get("loc", ()) if isinstance(p, str | int))
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            msg = "unknown field"
        problems.append((loc, msg))
    return problems


def _raise(problems: list[tuple[Loc, str]], lines: dict[str, int] | None = None) -> None:
    details = []
    for loc, msg in problems:
        path = format_loc(loc)
        details.append({"loc": path, "msg": msg, "line": (lines or {}).get(path)})
    first = details[0]
    where = f" (line {first['line']})" if first.get("line") else ""
    raise InvalidInput(f"The scorecard form is not valid: {first['loc']}: {first['msg']}{where}"
                       + (f" (and {len(details) - 1} more)" if len(details) > 1 else ""), details=details)


def parse_form(data: Any, *, lines: dict[str, int] | None = None) -> ScorecardForm:
    """Validate a form given as plain data. Raises InvalidInput listing every problem with its field path."""
    if not isinstance(data, dict):
        _raise([((), "a scorecard form must be a mapping")], lines)
    try:
        form = ScorecardForm.model_validate(data)
    except ValidationError as exc:
        _raise(_pydantic_problems(exc), lines)
    problems = form_problems(form)
    if problems:
        _raise(problems, lines)
    return form


def _line_map(node: yaml.Node, prefix: Loc = ()) -> dict[str, int]:
    """The 1-based line of every field path in a composed YAML document."""
    lines = {format_loc(prefix): node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines.update(_line_map(value_node, (*prefix, key)))
            lines[format_loc((*prefix, key))] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_map(item, (*prefix, index)))
    return lines


MAX_YAML_NODES = 20_000


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes `root` holds once every alias is expanded (each shared node counted every time it is
    used), computed without expanding anything; stops counting past MAX_YAML_NODES."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int = 0) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > 500:
            return MAX_YAML_NODES + 1
        sizes[id(node)] = MAX_YAML_NODES + 1  # a node that contains itself expands without end
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        total = 1
        for child in children:
            total = min(total + size(child, depth + 1), MAX_YAML_NODES + 1)
        sizes[id(node)] = total
        return total

    return size(root)


def parse_form_yaml(text: str) -> ScorecardForm:
    """Parse and validate a form written in YAML; problems carry their field path and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            # a "billion laughs" document: a few lines of aliases that expand to millions of nodes
            raise InvalidInput(f"The scorecard file expands to more than {MAX_YAML_NODES} YAML nodes "
                               "(anchors and aliases); write the form out without them",
                               details=[{"loc": "(file)", "msg": "too many nodes after alias expansion"}])
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InvalidInput(f"The scorecard file is not valid YAML: {exc}",
                           details=[{"loc": "(file)", "msg": str(exc).splitlines()[0], "line": line}]) from exc
    lines = _line_map(node) if node is not None else {}
    return parse_form(data, lines=lines)


def form_to_data(form: ScorecardForm) -> dict[str, Any]:
    """The form as plain data, without defaults, for storage and YAML export."""
    # python mode keeps scale label keys as integers in YAML (JSON storage turns them into strings, which
    # the lax schema reads back as integers)
    return form.model_dump(mode="python", exclude_defaults=True, exclude_none=True) | {
        "key": form.key, "name": form.name, "channels": list(form.channels)}


def form_to_yaml(form: ScorecardForm) -> str:
    return yaml.safe_dump(form_to_data(form), sort_keys=False, allow_unicode=True, width=100)
