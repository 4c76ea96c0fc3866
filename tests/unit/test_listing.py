"""Sorting and pagination state of the list pages (app/core/listing.py)."""

import pytest
from sqlmodel import select

from app.core.listing import ListResponse, paginate, parse_sort, sort_rows
from app.core.models import AuditEvent

SORTS = {"name": lambda r: r["name"], "score": lambda r: r["score"]}
ROWS = [{"name": "b", "score": 2}, {"name": "a", "score": None}, {"name": "c", "score": 1}]


@pytest.mark.parametrize(("value", "key", "descending"), [
    ("score", "score", False), ("-score", "score", True), ("", "name", True), (None, "name", True),
    ("password", "name", True), ("--name", "name", True)])  # unknown → the page's default, never an error
def test_parse_sort_reads_the_url_parameter(value, key, descending):
    sort = parse_sort(value, SORTS, "-name")
    assert (sort.key, sort.descending) == (key, descending)
    assert sort.param == ("-" if descending else "") + key


def test_rows_without_a_value_go_last_in_both_directions():
    assert [r["name"] for r in sort_rows(ROWS, parse_sort("score", SORTS, "name"))] == ["c", "b", "a"]
    assert [r["name"] for r in sort_rows(ROWS, parse_sort("-score", SORTS, "name"))] == ["b", "c", "a"]


def test_paginate_gives_one_page_and_the_count():
    page = paginate(list(range(120)), page=3, per_page=50)
    assert page.items == list(range(100, 120)) and page.total == 120 and page.pages == 3
    assert paginate([], page=1, per_page=50).pages == 1 and paginate(list(range(5)), page=9, per_page=50).items == []


def test_a_bad_default_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_sort("", SORTS, "nothing")


def test_a_page_says_whether_another_follows_and_the_api_shape_carries_it():
    last = paginate(list(range(120)), page=3, per_page=50)
    assert last.has_prev and not last.has_next
    first = paginate(list(range(120)), page=0, per_page=50)  # page < 1 reads as page 1
    assert first.page == 1 and first.has_next and not first.has_prev
    body = ListResponse[int].of(first.map(lambda n: n * 2)).model_dump()
    assert body == {"items": [n * 2 for n in range(50)], "total": 120, "page": 1, "per_page": 50, "has_next": True}


def test_paginate_a_query_needs_its_session():
    with pytest.raises(TypeError):
        paginate(select(AuditEvent), page=1, per_page=10)
