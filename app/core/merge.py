"""The one rule for what an import changes on a stored record, used by every import path (surveys, calls,
chats, e-mails, help desks, social posts, webhooks).

A field the import does not carry — left out of `values`, or given as None or an empty string because the
file had no such column or an empty cell — keeps the stored value. It clears the stored value only for a
field named in `clear` (the mapping or the sender said so explicitly). A mapping field (a record's `extra`
details) merges key by key by the same rule, so a later file without some details keeps them. Applying the
same values again changes nothing, and two imports that carry disjoint fields end in the same state in
either order.
"""

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from app.core.timeutil import as_utc


def _absent(value: Any) -> bool:
    """None, or an empty cell: what a file says about a field it does not fill."""
    return value is None or (isinstance(value, str) and not value.strip())


def same_value(stored: Any, new: Any) -> bool:
    """Equal as an import sees it: datetimes compared in UTC (SQLite gives them back without a zone)."""
    if isinstance(stored, datetime) and isinstance(new, datetime):
        return as_utc(stored) == as_utc(new)
    return bool(stored == new)


def merged_details(stored: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """`stored` updated with the keys of `new` that carry a value (None or an empty string keeps the stored
    key)."""
    return {**(stored or {}), **{key: value for key, value in new.items() if not _absent(value)}}


def merge_fields(record: Any, values: Mapping[str, Any], *, clear: Collection[str] = ()) -> list[str]:
    """Write `values` over `record`'s attributes by the import rule (see the module docstring); returns the
    names of the fields that changed, in the order given (empty when the import changes nothing)."""
    changed: list[str] = []
    for name, value in values.items():
        stored = getattr(record, name)
        if _absent(value) and name not in clear:
            continue
        if isinstance(value, Mapping) and isinstance(stored, Mapping) and name not in clear:
            value = merged_details(stored, value)
        if same_value(stored, value):
            continue
        setattr(record, name, value)
        changed.append(name)
    return changed
