"""A small per-process cache for whole-plan reads, keyed on the data revision.

Entries are computed from committed data and keyed by (database, data token,
revision, …) so a change anywhere makes every older entry unreachable; nothing is
ever served stale. Values must be treated as read-only by callers.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from ..extensions import db
from .revision import current_revision

T = TypeVar("T")
MAX_ENTRIES = 24
_lock = threading.Lock()
_entries: "OrderedDict[Hashable, object]" = OrderedDict()


def revision_key() -> Hashable | None:
    """Identifies the data now (one small query); None: don't cache."""
    rev = current_revision(db.session)
    if rev is None:
        return None
    return (str(db.engine.url), rev)


def cached(key: Hashable | None, build: Callable[[], T]) -> T:
    """The value for ``key`` (built and kept on a miss); ``key`` None builds without caching."""
    if key is None:
        return build()
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[return-value]
    value = build()
    with _lock:
        _entries[key] = value
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
