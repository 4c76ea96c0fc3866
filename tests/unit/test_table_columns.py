"""A table declared once (app/core/export.py Column): the same columns give the screen cells and the CSV file."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from app.core.export import Column, table_csv


def _local(value: datetime, fmt: str) -> str:
    return value.strftime(fmt) + " local"


COLUMNS: list[Column[dict[str, object]]] = [
    Column("Case", lambda r: r["id"], link=lambda r: f"/cases/{r['id']}"),
    Column("Opened at", lambda r: r["opened"]),
    Column("Due", lambda r: r["due"], time_format="%Y-%m-%d"),
    Column("Note", lambda r: r["note"], format=lambda v: v or "—"),
    Column("Status", lambda r: r["status"], html=lambda r: Markup("<b>{}</b>").format(r["status"])),
    Column("Internal", lambda r: "x", screen=False),
    Column("Screen only", lambda r: "y", csv=False)]
ROW = {"id": 7, "opened": datetime(2026, 11, 3, 9, 30, tzinfo=UTC), "due": date(2026, 11, 10), "note": None,
       "status": "<open>"}


def _csv(columns: list[Column[dict[str, object]]], rows: list[dict[str, object]]) -> str:
    response = table_csv("cases.csv", rows, columns)

    async def read() -> str:
        return "".join([chunk async for chunk in response.body_iterator])  # type: ignore[misc]
    # in a thread of its own: an earlier test (a browser or a TestClient) may leave this thread's loop running
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def test_screen_cells_format_values_and_escape_markup():
    cells = [c.shown(ROW, _local) for c in COLUMNS if c.screen]
    assert cells[:4] == ["7", "2026-11-03 09:30 local", "2026-11-10", "—"]
    assert cells[4] == Markup("<b>&lt;open&gt;</b>") and cells[5] == "y"


def test_the_csv_has_the_raw_values_under_snake_case_headers_without_screen_only_columns():
    lines = _csv(COLUMNS, [ROW | {"note": "=cmd()"}]).splitlines()
    assert lines[0] == "case,opened_at,due,note,status,internal"
    assert lines[1] == "7,2026-11-03 09:30:00+00:00,2026-11-10,'=cmd(),<open>,x"  # formulas still neutralised


# ---------------------------------------------------------------- the macros that draw a declared table

TEMPLATES = Path(__file__).resolve().parents[2] / "frontend" / "templates"


def _render(source: str, **context: object) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    env.globals["local_time"] = _local
    return env.from_string(source).render(**context)


PEOPLE: list[Column[dict[str, object]]] = [
    Column("Name", lambda r: r["name"], blank="unknown"),
    Column("Followers", lambda r: r["followers"], format=lambda n: "–" if n is None else f"{n:,}", cell_class="num"),
    Column("Due", lambda r: r["due"], name="due_at"),
    Column("Id", lambda r: r["id"], screen=False)]


def test_table_cells_take_their_class_blank_text_and_page_macros():
    page = _render(
        '{% from "macros.html" import table %}'
        '{% macro due(r) %}<b class="clock">{{ r.due }}</b>{% endmacro %}'
        '{% macro note(r) %}<tr class="note"><td colspan="3">about {{ r.name or "nobody" }}</td></tr>{% endmacro %}'
        '{{ table(none, columns, rows, cells={"due_at": due}, row_after=note) }}',
        columns=PEOPLE, rows=[{"name": None, "followers": 250000, "due": "<soon>", "id": 1}])
    assert "<th scope=\"col\">Name</th><th scope=\"col\">Followers</th><th scope=\"col\">Due</th></tr>" in page
    assert '<td>unknown</td><td class="num">250,000</td><td><b class="clock">&lt;soon&gt;</b></td></tr>' in page
    assert '<tr class="note"><td colspan="3">about nobody</td></tr>' in page  # the page's own line under the row


def test_cards_show_the_fields_that_read_as_something_and_the_body_column_as_text():
    hits: list[Column[dict[str, object]]] = [
        Column("Subject", lambda r: r["subject"], link=lambda r: f"/interactions/{r['id']}"),
        Column("Queue", lambda r: r["queue"], format=lambda q: f"queue {q}" if q else ""),
        Column("Snippet", lambda r: str(r["snippet"]), html=lambda r: Markup("<mark>{}</mark>").format(r["snippet"]))]
    page = _render('{% from "macros.html" import cards %}{{ cards(columns, rows, "snippet", empty="No matches.") }}',
                   columns=hits, rows=[{"id": 4, "subject": "Bill <query>", "queue": None, "snippet": "bill & co"}])
    assert '<a href="/interactions/4">Bill &lt;query&gt;</a>' in page and "queue" not in page
    assert '<p class="snippet"><mark>bill &amp; co</mark></p>' in page
    empty = _render('{% from "macros.html" import cards %}{{ cards(columns, [], "snippet", empty="No matches.") }}',
                    columns=hits)
    assert '<li class="muted">No matches.</li>' in empty
