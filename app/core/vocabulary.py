"""The deployment's domain vocabulary: brand, product, plan and place names.

One list, two users: the speech decoder is given it (so "Kestrel" and "Mong Kok" are heard as such), and
personal-data redaction never treats its entries as personal data (a brand is not a customer's name).
Per-queue lists extend the deployment list for calls of that queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from app.core.settings import PROJECT_ROOT, Settings

DEFAULT_VOCABULARY_FILE = PROJECT_ROOT / "models" / "vocabulary.yaml"


@dataclass(frozen=True)
class Vocabulary:
    terms: tuple[str, ...] = ()
    per_queue: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def for_queue(self, queue: str | None) -> tuple[str, ...]:
        """The deployment's terms followed by the queue's own (no repeats, order kept)."""
        extra = self.per_queue.get(queue or "", ())
        return tuple(dict.fromkeys((*self.terms, *extra)))

    def all_terms(self) -> tuple[str, ...]:
        """Every term of every queue: the redaction allow-list."""
        merged: list[str] = list(self.terms)
        for terms in self.per_queue.values():
            merged.extend(terms)
        return tuple(dict.fromkeys(merged))


def _terms(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    return tuple(item.strip() for item in value)


def parse_vocabulary(text: str, *, source: str = "vocabulary") -> Vocabulary:
    """Parses `terms: [...]` and `queues: {queue: [...]}`; raises ValueError naming the field path."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping with 'terms' and 'queues'")
    queues = data.get("queues") or {}
    if not isinstance(queues, dict):
        raise ValueError(f"{source}: queues: expected a mapping of queue name to a list of terms")
    return Vocabulary(
        terms=_terms(data.get("terms"), f"{source}: terms"),
        per_queue={str(name): _terms(value, f"{source}: queues.{name}") for name, value in queues.items()},
    )


@lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> Vocabulary:
    return parse_vocabulary(path.read_text(encoding="utf-8"), source=str(path))


def load_vocabulary(settings: Settings) -> Vocabulary:
    """The configured vocabulary file (`EARSHOT_VOCABULARY_FILE`), or the shipped default; cached by mtime."""
    path = settings.vocabulary_file or DEFAULT_VOCABULARY_FILE
    if not path.exists():
        return Vocabulary()
    return _load(path, path.stat().st_mtime)
