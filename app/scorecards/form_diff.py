"""What changed between two versions of a form, in what can move a score: questions added, removed or
changed (points, weights, options, critical flags, N/A; not wording, guidance, labels or the auto rule) and
section weights — and a form with one of those changes alone applied, to measure what each is worth."""


from dataclasses import dataclass
from typing import Any, Literal

from app.scorecards.schema import ScorecardForm

# what does not change a score: wording, guidance, scale labels, the auto rule
_NOT_SCORED = {"text", "guidance", "labels", "auto_answer"}

ChangeKind = Literal["added", "removed", "changed", "section weight"]


@dataclass(frozen=True)
class FormChange:
    key: str  # a question id, or "section:<id>" for a section weight
    kind: ChangeKind
    description: str



def _scoring_view(data: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in data.items() if k not in _NOT_SCORED}
    if view.get("options"):
        view["options"] = [{k: v for k, v in o.items() if k != "label"} for o in view["options"]]
    return view


def _describe(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name == "options":
            parts.append("options changed")
        elif isinstance(before, bool) or isinstance(after, bool):
            parts.append(f"{name.replace('_', ' ')} {'yes' if before else 'no'} → {'yes' if after else 'no'}")
        else:
            parts.append(f"{name.replace('_', ' ')} {before if before is not None else '—'} → "
                         f"{after if after is not None else '—'}")
    return "; ".join(parts)


def _placed(form: ScorecardForm) -> dict[str, tuple[str, dict[str, Any]]]:
    """question id → (section id, the question's scoring fields with defaults filled in)."""
    return {q.id: (s.id, _scoring_view(q.model_dump(mode="json"))) for s, q in form.questions()}


def diff_forms(old: ScorecardForm, new: ScorecardForm) -> list[FormChange]:
    """The changes of `new` against `old` that can move a score, in the new form's order (removals last)."""
    before, after = _placed(old), _placed(new)
    changes: list[FormChange] = []
    old_weights = {s.id: s.weight for s in old.sections}
    for section in new.sections:
        if section.id in old_weights and old_weights[section.id] != section.weight:
            changes.append(FormChange(f"section:{section.id}", "section weight",
                                      f"weight {old_weights[section.id]} → {section.weight}"))
        for question in section.questions:
            if question.id not in before:
                changes.append(FormChange(question.id, "added", f"new {question.type} question in {section.id}"))
                continue
            old_section, old_view = before[question.id]
            new_section, new_view = after[question.id]
            description = _describe(old_view, new_view)
            if old_section != new_section:
                description = "; ".join(p for p in (f"moved from {old_section} to {new_section}", description) if p)
            if description:
                changes.append(FormChange(question.id, "changed", description))
    changes += [FormChange(qid, "removed", f"removed from {sid}") for qid, (sid, _) in before.items()
                if qid not in after]
    return changes


def apply_change(old: ScorecardForm, new: ScorecardForm, change: FormChange) -> ScorecardForm:
    """`old` with only `change` (taken from `new`) applied: what that change alone does."""
    data = old.model_dump(mode="python")
    sections: list[dict[str, Any]] = data["sections"]
    if change.kind == "section weight":
        section_id = change.key.removeprefix("section:")
        weight = next(s.weight for s in new.sections if s.id == section_id)
        for section in sections:
            if section["id"] == section_id:
                section["weight"] = weight
        return ScorecardForm.model_validate(data)
    for section in sections:
        section["questions"] = [q for q in section["questions"] if q["id"] != change.key]
    for new_section in new.sections:
        ids = [q.id for q in new_section.questions]
        if change.key not in ids:
            continue
        target = next((s for s in sections if s["id"] == new_section.id), None)
        if target is None:
            target = new_section.model_dump(mode="python") | {"questions": []}
            sections.append(target)
        earlier = set(ids[:ids.index(change.key)])
        position = max((i + 1 for i, q in enumerate(target["questions"]) if q["id"] in earlier), default=0)
        target["questions"].insert(position, new_section.questions[ids.index(change.key)].model_dump(mode="python"))
    data["sections"] = [s for s in sections if s["questions"]]
    return ScorecardForm.model_validate(data)
