"""Lists: one `paginate()` returning `Page[T]` for every list page and API, one JSON list shape (`ListResponse`),
and sorting with its state in the URL (`?page=2&sort=-score`), so any view of a list can be bookmarked and
shared. A page declares the columns it sorts by; anything else in `sort` falls back to the page's default order
rather than failing."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, overload

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.sql import Select
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select as TupleSelect
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")
K = TypeVar("K")
U = TypeVar("U")

MAX_PER_PAGE = 500  # the largest page the JSON APIs hand out

# The query parameters of every paged JSON list: `?page=2&per_page=100`.
PageNumber = Annotated[int, Query(ge=1, description="The page wanted, from 1.")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Rows a page holds.")]


@dataclass
class Page(Generic[T]):
    """One page of a list: its rows, which page it is, and how many rows the whole list has."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    def map(self, convert: Callable[[T], U]) -> "Page[U]":
        """The same page with every row converted (a table row → what the API returns)."""
        return Page(items=[convert(item) for item in self.items], total=self.total, page=self.page,
                    per_page=self.per_page)


@overload
def paginate(source: Sequence[T], *, page: int, per_page: int) -> Page[T]: ...
@overload
def paginate(source: SelectOfScalar[T], *, page: int, per_page: int, session: Session) -> Page[T]: ...
@overload
def paginate(source: Select[Any] | TupleSelect[*tuple[Any, ...]], *, page: int, per_page: int,
             session: Session) -> Page[Any]: ...


def paginate(source: Any, *, page: int, per_page: int, session: Session | None = None) -> Page[Any]:
    """One page of a list: either a query (ordered; counted once, then OFFSET/LIMIT — pass the `session`) or
    a list already in memory. A page past the end is empty, not an error; page < 1 reads as page 1."""
    page = max(page, 1)
    start = (page - 1) * per_page
    if isinstance(source, Select):
        if session is None:
            raise TypeError("paginate(query) needs the session to run it in")
        total = session.exec(select(func.count()).select_from(source.order_by(None).subquery())).one()
        rows = session.exec(source.offset(start).limit(per_page)).all()  # type: ignore[call-overload]
        return Page(items=list(rows), total=int(total), page=page, per_page=per_page)
    return Page(items=list(source[start:start + per_page]), total=len(source), page=page, per_page=per_page)


class ListResponse(BaseModel, Generic[T]):
    """What every JSON list endpoint returns: one page of `items` and where it sits in the whole list."""

    items: list[T]
    total: int = Field(description="Rows in the whole list (every page), after the filters.")
    page: int = Field(description="This page, from 1.")
    per_page: int = Field(description="Rows a page holds (the last page may hold fewer).")
    has_next: bool = Field(description="Whether `page + 1` has rows.")

    @classmethod
    def of(cls, page: Page[Any]) -> "ListResponse[T]":
        return cls(items=page.items, total=page.total, page=page.page, per_page=page.per_page,
                   has_next=page.has_next)

    @classmethod
    def whole(cls, items: Sequence[Any]) -> "ListResponse[T]":
        """A short list that is never paged (teams, rules, tokens): every row on page 1."""
        return cls.of(Page(items=list(items), total=len(items), page=1, per_page=max(len(items), 1)))


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
