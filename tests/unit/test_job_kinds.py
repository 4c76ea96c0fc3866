"""Job kinds: one catalogue (`JobKind`), every kind has a handler, every enqueue names a catalogued kind, and
chaining to a kind nobody handles fails loudly instead of silently switching a step (e.g. auto-QA) off."""

import ast
import importlib
from pathlib import Path

import pytest

from app.core.jobs import JobContext, JobKind, UnknownJobKind, load_handlers, registered_kinds

APP = Path(__file__).resolve().parents[2] / "app"


def _enqueue_calls() -> list[tuple[str, int, ast.expr]]:
    """(module, line, kind expression) of every `….enqueue(…)` call in app/ outside the queue itself."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        module = ".".join(path.relative_to(APP.parent).with_suffix("").parts)
        if module == "app.core.jobs" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "enqueue"):
                continue
            kind = next((k.value for k in node.keywords if k.arg == "kind"), node.args[0] if node.args else None)
            assert kind is not None, f"{module}:{node.lineno}: enqueue without a kind"
            found.append((module, node.lineno, kind))
    return found


def test_every_kind_has_exactly_the_catalogued_handlers() -> None:
    load_handlers()
    kinds = set(registered_kinds())
    missing = {kind.value for kind in JobKind} - kinds
    assert not missing, f"job kinds nobody handles: {sorted(missing)}"
    # handlers registered by tests (test.*) are not part of the product
    uncatalogued = {kind for kind in kinds if not kind.startswith("test.")} - {kind.value for kind in JobKind}
    assert not uncatalogued, f"handlers for kinds missing from JobKind: {sorted(uncatalogued)}"


def test_every_enqueue_call_names_a_registered_kind() -> None:
    load_handlers()
    calls = _enqueue_calls()
    assert len(calls) >= 8  # transcription, analysis, imports, packs, sweep, auto-checks, webhooks
    kinds_seen = set()
    for module, line, expression in calls:
        assert not isinstance(expression, ast.Constant | ast.JoinedStr), (
            f"{module}:{line}: job kind typed as a string; use a JobKind member")
        value = eval(compile(ast.Expression(expression), module, "eval"),  # noqa: S307 - our own source
                     vars(importlib.import_module(module)))
        assert isinstance(value, JobKind), f"{module}:{line}: kind {ast.unparse(expression)} is not a JobKind"
        assert value in registered_kinds(), f"{module}:{line}: no handler for {value}"
        kinds_seen.add(value)
    # the chained step after transcription is among them, and so are the ones users start
    assert {JobKind.NLP_ANALYZE, JobKind.SPEECH_TRANSCRIBE, JobKind.REVIEWS_MEETING_PACK,
            JobKind.INGEST_IMPORT, JobKind.CONNECTORS_WEBHOOK_DELIVER} <= kinds_seen


def test_chaining_to_an_unknown_kind_raises(runtime_free_context: JobContext) -> None:
    load_handlers()
    with pytest.raises(UnknownJobKind, match="nlp.analyse"):
        runtime_free_context.enqueue("nlp.analyse", {"interaction_id": 1})  # type: ignore[arg-type]
    runtime_free_context.enqueue(JobKind.NLP_ANALYZE, {"interaction_id": 1})  # a known kind, no queue: nothing


@pytest.fixture
def runtime_free_context() -> JobContext:
    return JobContext(job_id=1, kind=JobKind.SPEECH_TRANSCRIBE, payload={}, runtime=None)  # type: ignore[arg-type]
