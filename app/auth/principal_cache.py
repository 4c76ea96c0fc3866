"""A short-lived cache of who a session cookie or API token belongs to, so that most requests are
authenticated without a database round trip.

Bound: an entry lives `principal_cache_seconds` (default 5 s), never past its web session's expiry. Signing
out, signing out everywhere, revoking a token and changing or deactivating a user drop the user's entries in
every cache of the process that made the change, at once; the server's other processes see it when their
entries expire, so within that bound. A lookup that raced with such a change is not stored.
"""

import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

from app.core.security import Principal

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class CachedPrincipal:
    principal: Principal
    csrf_token: str | None  # the web session's; None for API tokens
    session_expires_at: datetime | None


class PrincipalCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._entries: dict[str, tuple[float, CachedPrincipal]] = {}
        self._lock = threading.Lock()
        self.epoch = 0  # bumped by every invalidation
        _caches.add(self)

    def get(self, digest: str, now: datetime) -> CachedPrincipal | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        stored_at, entry = found
        if time.monotonic() - stored_at > self.ttl or (
                entry.session_expires_at is not None and entry.session_expires_at <= now):
            self._entries.pop(digest, None)
            return None
        return entry

    def put(self, digest: str, entry: CachedPrincipal, *, epoch: int) -> None:
        """Store what a lookup begun at `epoch` found, unless something was invalidated meanwhile."""
        if self.ttl <= 0:
            return
        with self._lock:
            if epoch != self.epoch:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[digest] = (time.monotonic(), entry)

    def forget_user(self, user_id: int) -> None:
        with self._lock:
            self.epoch += 1
            for digest in [d for d, (_, e) in self._entries.items() if e.principal.user_id == user_id]:
                del self._entries[digest]


_caches: "weakref.WeakSet[PrincipalCache]" = weakref.WeakSet()


def forget_user(user_id: int) -> None:
    """Drop the user's entries from every cache in this process (call after the change is committed)."""
    for cache in list(_caches):
        cache.forget_user(user_id)
