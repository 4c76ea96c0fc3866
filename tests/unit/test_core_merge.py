"""The one import rule (app/core/merge.py), over random files: any order of any partial files ends where the
union of what they carry says; a field no file carries is never touched; only a named clear empties."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import permutations
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.core.merge import merge_fields

FIELDS = ("agent_id", "queue", "subject", "ended_at")


@dataclass
class Stored:
    agent_id: int | None = None
    queue: str | None = None
    subject: str | None = None
    ended_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


FULL = {"agent_id": 7, "queue": "billing", "subject": "Refund", "ended_at": datetime(2026, 11, 2, 9, 5, tzinfo=UTC),
        "extra": {"disposition": "ANSWERED", "billsec": 180}}


def _partial(carried: frozenset[str], blank: str) -> dict[str, Any]:
    """The full record as a file carrying only `carried` gives it: the rest absent, or present but empty."""
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name in carried:
            values[name] = FULL[name]
        elif blank == "empty cell":
            values[name] = None if name in ("agent_id", "ended_at") else ""
    values["extra"] = {k: (v if k in carried else None) for k, v in FULL["extra"].items()}
    return values


subsets = st.frozensets(st.sampled_from([*FIELDS, "disposition", "billsec"]))


@given(files=st.lists(subsets, min_size=1, max_size=3), blank=st.sampled_from(["absent", "empty cell"]))
def test_any_order_of_partial_files_ends_in_the_state_their_union_gives(files: list[frozenset[str]],
                                                                        blank: str) -> None:
    carried = frozenset().union(*files)
    ends = set()
    for order in permutations(files):
        record = Stored()
        for carried_by_file in order:
            merge_fields(record, _partial(carried_by_file, blank))
            merge_fields(record, _partial(carried_by_file, blank))  # the same file again changes nothing
        ends.add((*(getattr(record, name) for name in FIELDS), tuple(sorted(record.extra.items()))))
        for name in FIELDS:
            assert getattr(record, name) == (FULL[name] if name in carried else None)
        assert record.extra == {k: v for k, v in FULL["extra"].items() if k in carried}
    assert len(ends) == 1


def test_a_value_clears_only_when_named_and_the_same_time_in_another_zone_is_no_change() -> None:
    record = Stored(**FULL)
    assert merge_fields(record, {"queue": None, "subject": "", "extra": {"billsec": None}}) == []
    assert (record.queue, record.subject, record.extra["billsec"]) == ("billing", "Refund", 180)
    assert merge_fields(record, {"queue": None, "extra": {}}, clear={"queue", "extra"}) == ["queue", "extra"]
    assert record.queue is None and record.extra == {}
    later = FULL["ended_at"].astimezone(timezone(timedelta(hours=8)))
    assert merge_fields(record, {"ended_at": later}) == []
