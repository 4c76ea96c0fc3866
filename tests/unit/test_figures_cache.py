"""The home pages' figures cache on its own: the bound, what a write drops, and no value kept from a
computation that raced with a write."""

from app.core import figures_cache
from app.core.figures_cache import FiguresCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_reused_within_the_bound_and_computed_again_after_it():
    clock = Clock()
    cache = FiguresCache(30, clock=clock)
    calls = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute("k", depends_on=frozenset({"evaluation"}), compute=compute) == 1
    clock.now += 29
    assert cache.get_or_compute("k", depends_on=frozenset({"evaluation"}), compute=compute) == 1
    clock.now += 2
    assert cache.get_or_compute("k", depends_on=frozenset({"evaluation"}), compute=compute) == 2
    assert cache.get_or_compute("other", depends_on=frozenset({"evaluation"}), compute=compute) == 3  # own key


def test_a_write_drops_only_the_entries_that_depend_on_its_tables():
    cache = FiguresCache(30, clock=Clock())
    cache.get_or_compute("surveys", depends_on=frozenset({"survey_response"}), compute=lambda: "old surveys")
    cache.get_or_compute("coaching", depends_on=frozenset({"evaluation"}), compute=lambda: "old coaching")
    cache.forget({"evaluation", "message"})
    assert cache.get_or_compute("surveys", depends_on=frozenset({"survey_response"}), compute=lambda: "new") == \
        "old surveys"
    assert cache.get_or_compute("coaching", depends_on=frozenset({"evaluation"}), compute=lambda: "new") == "new"


def test_a_value_computed_while_a_write_was_committed_is_not_kept():
    cache = FiguresCache(30, clock=Clock())

    def racing() -> str:
        figures_cache._invalidate({"coaching_assignment"})  # another request's commit, mid-computation
        return "maybe stale"

    assert cache.get_or_compute("k", depends_on=frozenset({"evaluation"}), compute=racing) == "maybe stale"
    assert cache.get_or_compute("k", depends_on=frozenset({"evaluation"}), compute=lambda: "fresh") == "fresh"
    assert cache.get_or_compute("k", depends_on=frozenset({"evaluation"}), compute=lambda: "newer") == "fresh"


def test_a_zero_bound_keeps_nothing():
    cache = FiguresCache(0, clock=Clock())
    assert cache.get_or_compute("k", depends_on=frozenset(), compute=lambda: 1) == 1
    assert cache.get_or_compute("k", depends_on=frozenset(), compute=lambda: 2) == 2
