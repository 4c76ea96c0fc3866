"""A table declared once (app/core/export.py Column): the same columns give the screen cells and the CSV file."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

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
