"""Tables and their CSV export: a table is declared once, as `Column`s (a title, how a row gives the cell's
value, how the value reads on screen), and the same declaration renders the page's HTML table (the `table`
macro of macros.html) and the CSV file. Every CSV file goes through `csv_response`, so no cell ever reaches a
spreadsheet as a formula."""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from fastapi import Request
from fastapi.responses import StreamingResponse
from markupsafe import Markup

T = TypeVar("T")

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_ROWS = 100_000  # the most rows one export holds ("all rows", with a ceiling)


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell starting with = + - @ is prefixed with '."""
    text = "" if value is None else str(value)
    if text.startswith(DANGEROUS_PREFIXES) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_lines(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in headers])
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(c) for c in row])
        yield buffer.getvalue()


def csv_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> StreamingResponse:
    """The rows as a CSV download named `filename` (anything but letters, digits, - _ . is dropped)."""
    safe_name = "".join(c for c in filename if c.isalnum() or c in "-_.") or "export.csv"
    return StreamingResponse(csv_lines(headers, rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{safe_name}"'})


# ---------------------------------------------------------------- one declaration per table


def _csv_name(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column of a table, for the screen and the CSV file alike.

    `value(row)` is the cell: written as is to the CSV (header `name`, by default the title in snake_case) and
    shown on screen through `format` (default: `blank` for None, a datetime in local time as `time_format`).
    `link(row)` makes the screen cell a link, `sort` names the page's sort key for a clickable header, `html(row)`
    replaces the screen cell with markup of its own (a badge), `cell_class` is the screen cell's CSS class.
    `screen=False` / `csv=False` keep a column out of one output."""

    title: str
    value: Callable[[T], object]
    name: str = ""
    format: Callable[[Any], str] | None = None
    link: Callable[[T], str | None] | None = None
    sort: str | None = None
    html: Callable[[T], Markup] | None = None
    time_format: str = "%Y-%m-%d %H:%M"
    screen: bool = True
    csv: bool = True
    blank: str = ""
    cell_class: str = ""

    @cached_property
    def header(self) -> str:  # asked for every cell of a page's table: worked out once
        return self.name or _csv_name(self.title)

    def shown(self, row: T, local_time: Callable[[datetime, str], str]) -> str | Markup:
        """The screen cell (the `table` macro calls this with the page's local-time filter)."""
        if self.html is not None:
            return self.html(row)
        value = self.value(row)
        if self.format is not None:
            return self.format(value)
        if value is None:
            return self.blank
        if isinstance(value, datetime):
            return local_time(value, self.time_format)
        if isinstance(value, date):
            return value.isoformat()
        return str(value)


def screen_columns(columns: Sequence[Column[T]]) -> list[Column[T]]:
    return [c for c in columns if c.screen]


def table_csv(filename: str, rows: Iterable[T], columns: Sequence[Column[T]]) -> StreamingResponse:
    """The rows as a CSV download with the table's CSV columns (in order); the values are read now, while the
    request's database session is still open."""
    wanted = [c for c in columns if c.csv]
    values = [[c.value(row) for c in wanted] for row in rows]
    return csv_response(filename, [c.header for c in wanted], values)


# ---------------------------------------------------------------- every list page as a CSV file
#
# A list page answers `?format=csv` (the "Export CSV" link of macros.html keeps the page's other query
# parameters): the view runs its own query, with the same filters, sort and scope, for all rows instead of one
# page, and hands the rows to `table_csv` with the page's columns. No second route, so no second place to get
# the roles or the scope wrong.


def wants_csv(request: Request, table: str = "") -> bool:
    """Whether the page is asked for as CSV; a page with several tables names the one wanted with `table`."""
    return request.query_params.get("format") == "csv" and request.query_params.get("table", "") == table


def page_window(request: Request, page: int, per_page: int) -> tuple[int, int]:
    """`page` and `per_page` for a paginated list query: the page asked for on screen; for the export, the
    first page of every row (a `page=` left in the URL by the pager never empties the file)."""
    return (1, EXPORT_ROWS) if wants_csv(request) else (page, per_page)
