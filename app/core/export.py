"""CSV export for every list and report."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

from fastapi import Request
from fastapi.responses import StreamingResponse

T = TypeVar("T")

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
    safe_name = "".join(c for c in filename if c.isalnum() or c in "-_.") or "export.csv"
    return StreamingResponse(csv_lines(headers, rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{safe_name}"'})


# ---------------------------------------------------------------- every list page as a CSV file
#
# A list page answers `?format=csv` (the "Export CSV" link of macros.html keeps the page's other query
# parameters): the view runs its own query, with the same filters, sort and scope, for all rows instead of one
# page, and hands the rows to `table_csv` with the page's columns. No second route, so no second place to get
# the roles or the scope wrong.

EXPORT_ROWS = 100_000  # the page size a view asks for when it exports: "all rows", with a ceiling


def wants_csv(request: Request, table: str = "") -> bool:
    """Whether the page is asked for as CSV; a page with several tables names the one wanted with `table`."""
    return request.query_params.get("format") == "csv" and request.query_params.get("table", "") == table


def page_size(request: Request, default: int) -> int:
    """The page size a list view should ask for: one page for the screen, every row for the export."""
    return EXPORT_ROWS if wants_csv(request) else default


def page_window(request: Request, page: int, per_page: int) -> tuple[int, int]:
    """`page` and `per_page` for a paginated list query: the page asked for on screen; for the export, the
    first page of every row (a `page=` left in the URL by the pager never empties the file)."""
    return (1, EXPORT_ROWS) if wants_csv(request) else (page, per_page)


def table_csv(filename: str, rows: Iterable[T], columns: Mapping[str, Callable[[T], object]]) -> StreamingResponse:
    """The rows as a CSV download, one column per header → value-of-a-row function (in order); the values are
    read now, while the request's database session is still open."""
    readers = list(columns.values())
    values = [[read(row) for read in readers] for row in rows]
    return csv_response(filename, list(columns), values)
