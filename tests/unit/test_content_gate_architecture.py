"""Every display path reads interaction text through the content gate (app/interactions/content.py).

This scans the modules that build what users see — pages, JSON endpoints, exports, PDFs/packs, reports,
search and the features' display helpers — for direct reads of the original text fields (`.text` or
`.redacted_text` of a message or a transcript line; `.subject` or `.redacted_subject` of anything: an
interaction's or an e-mail's subject) and fails when one is found outside the small allow-list below. Templates
are scanned too: they must print the gated `text`, never choose `redacted_text` themselves, and print subjects
only through the `subject` filter (`{{ interaction|subject }}`).
"""

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
TEMPLATES = APP.parent / "frontend" / "templates"

# modules whose output users see (pages, API, CSV/PDF, webhooks, search, evidence quotes)
DISPLAY_NAMES = {"views.py", "api.py", "pack.py", "export.py", "exports.py", "webhooks.py", "timeline.py",
                 "search.py", "home.py", "agent_summary.py", "alerts.py", "crosschannel.py", "repeat.py", "threads.py"}
DISPLAY_DIRS = {"reports", "views"}  # a feature whose pages outgrew one views.py keeps them in views/

# Variable names that hold a Message or a Segment in those modules (the original-text carriers).
ROW_NAMES = re.compile(r"^(m|s|msg|message|messages|segment|segments|seg|line|post|row|reply|r|first|last)$")
ORIGINAL_FIELDS = {"text", "redacted_text"}
# subjects are read through the gate whatever holds them (`i.subject`, `hit.interaction.subject`, `first.subject`)
SUBJECT_FIELDS = {"subject", "redacted_subject"}

# (module, line content) pairs that may read a field named `text` that is NOT interaction content.
ALLOWED: set[tuple[str, str]] = {
    ("app/connectors/webhooks.py", "response.text"),  # the receiving server's HTTP reply, not interaction text
    ("app/social/alerts.py", "message.text"),  # sentiment of the post (analysis, nothing shown)
    ("app/social/threads.py", "post.text"),  # ingest: storing the post as received
}


def display_modules() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py")
                  if p.name in DISPLAY_NAMES or p.parent.name in DISPLAY_DIRS)


def direct_reads(path: Path, relative: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    relative = relative or path.relative_to(APP.parent).as_posix()
    found = []
    # `gate.subject(interaction)` calls the gate: a method, not a stored field
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if id(node) in called:
            continue
        if not (isinstance(node, ast.Attribute) and node.attr in ORIGINAL_FIELDS | SUBJECT_FIELDS):
            continue
        if isinstance(node.ctx, ast.Store):
            continue
        owner = node.value
        owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        source = ast.unparse(node)
        if (relative, source) in ALLOWED:
            continue
        if (node.attr in SUBJECT_FIELDS or node.attr == "redacted_text" or ROW_NAMES.match(owner_name)
                or owner_name.endswith(("message", "segment"))):
            found.append(f"{relative}:{node.lineno}: {source}")
    return found


def test_display_modules_read_text_only_through_the_content_gate() -> None:
    modules = display_modules()
    assert len(modules) > 20  # the scan really covers the views, APIs and exports
    leaks = [hit for path in modules for hit in direct_reads(path)]
    assert not leaks, "read interaction text through app.interactions.content (the gate):\n" + "\n".join(leaks)


TEMPLATE_CHOICE = re.compile(r"redacted_text")
TEMPLATE_SUBJECT = re.compile(r"\.(redacted_)?subject\b")


def _template_lines(pattern: re.Pattern[str]) -> list[str]:
    return [f"{p.relative_to(TEMPLATES)}:{n}" for p in TEMPLATES.rglob("*.html")
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]


def test_templates_never_choose_between_original_and_redacted_text() -> None:
    offenders = _template_lines(TEMPLATE_CHOICE)
    assert not offenders, "templates must print the gated `text`: " + ", ".join(offenders)


def test_templates_print_subjects_only_through_the_subject_filter() -> None:
    offenders = _template_lines(TEMPLATE_SUBJECT)
    assert not offenders, "print a subject with {{ interaction|subject }}: " + ", ".join(offenders)
    assert TEMPLATE_SUBJECT.search("{{ i.subject or i.external_id }}")  # the rule can fail
    assert not TEMPLATE_SUBJECT.search("{{ i|subject or i.external_id }}")


def test_the_scan_finds_a_direct_read(tmp_path: Path) -> None:
    """The rule can fail: a view reading message.text or choosing redacted_text itself is reported."""
    leaky = tmp_path / "views.py"
    leaky.write_text("def leak(message, s):\n    return message.text, s.redacted_text or s.text\n", encoding="utf-8")
    assert len(direct_reads(leaky, "app/probe/views.py")) == 3


def test_the_scan_finds_a_direct_subject_read(tmp_path: Path) -> None:
    """A view or API printing an interaction's subject itself (original or stored redaction) is reported."""
    leaky = tmp_path / "api.py"
    leaky.write_text("def leak(hit, first, gate):\n"
                     "    return gate.subject(hit.interaction) or hit.interaction.subject or first.redacted_subject\n",
                     encoding="utf-8")
    assert direct_reads(leaky, "app/probe/api.py") == ["app/probe/api.py:2: hit.interaction.subject",
                                                       "app/probe/api.py:2: first.redacted_subject"]
