"""Pagination and sorting for list pages, with their state in the URL (`?page=2&sort=-score`), so any view of a
list can be bookmarked and shared. A page declares the columns it sorts by; anything else in `sort` falls back
to the page's default order rather than failing."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Sort(Generic[K]):
    """A sort key the page allows, and its direction; `param` is how it reads in the URL ("-score")."""

    key: str
    descending: bool
    column: K

    @property
    def param(self) -> str:
        return ("-" if self.descending else "") + self.key


def parse_sort(value: str | None, allowed: Mapping[str, K], default: str) -> Sort[K]:
    """`value` is a key of `allowed`, "-" in front for descending; unknown or empty → `default` (same syntax)."""
    for candidate in (value or "", default):
        key = candidate.removeprefix("-")
        if key in allowed:
            return Sort(key=key, descending=candidate.startswith("-"), column=allowed[key])
    raise ValueError(f"default sort {default!r} is not one of {sorted(allowed)}")


def sort_rows(rows: Sequence[T], sort: Sort[Callable[[T], Any]]) -> list[T]:
    """In-memory sort for lists the service returns whole; None values go last in either direction."""
    present = [r for r in rows if sort.column(r) is not None]
    missing = [r for r in rows if sort.column(r) is None]
    return sorted(present, key=sort.column, reverse=sort.descending) + missing


def paginate(rows: Sequence[T], *, page: int, per_page: int) -> Page[T]:
    """One page of an in-memory list (a page past the end is empty, not an error)."""
    start = (max(page, 1) - 1) * per_page
    return Page(items=list(rows[start:start + per_page]), total=len(rows), page=max(page, 1), per_page=per_page)
