"""A small per-process cache for whole-plan reads, keyed on the data revision.

Entries are computed from committed data and keyed by (database, data token,
revision, …) so a change anywhere makes every older entry unreachable; nothing is
ever served stale. Writes that bypass the ORM session (SQL in psql, a script, a
data migration) must bump the revision themselves: ``flask --app wsgi
bump-revision``, or ``revision.bump_revision(connection)`` in a migration.

Values are shared by every reader of the process, so they are immutable: tuples,
frozensets, read-only mappings (``MappingProxyType``), frozen dataclasses and
sealed rows (``plans.rows.TaskRow``). Setting an attribute or an item of a cached value
raises. In testing and debug mode ``cached`` checks this deeply for every value it
keeps (``assert_immutable``) and refuses a mutable one with TypeError.
"""
from __future__ import annotations

import dataclasses
import threading
from contextlib import contextmanager
from collections import OrderedDict
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Callable, Hashable, TypeVar

from flask import current_app, g, has_app_context

from ..extensions import db
from .revision import current_revision

T = TypeVar("T")
MAX_ENTRIES = 24
_lock = threading.Lock()
_entries: "OrderedDict[Hashable, object]" = OrderedDict()


def revision_key() -> Hashable | None:
    """Identifies the data now (one small query; none inside ``pinned``); None: don't cache."""
    if has_app_context() and "_pinned_revision" in g:
        return g._pinned_revision
    rev = current_revision(db.session)
    if rev is None:
        return None
    return (str(db.engine.url), rev)


@contextmanager
def pinned(revision: Hashable | None):
    """Inside the block ``revision_key()`` answers ``revision`` (read once by the caller): a read-only page
    whose ETag names a revision renders exactly that revision, without asking again (web/conditional.py)."""
    g._pinned_revision = revision
    try:
        yield revision
    finally:
        g.pop("_pinned_revision", None)


_ATOMS = (str, bytes, int, float, complex, bool, type(None), date, datetime, time, Decimal, Enum, range)


def assert_immutable(value: object) -> None:
    """Raise TypeError naming the first mutable part of ``value`` (walks it deeply, once per object)."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _ATOMS) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (tuple, frozenset)):
            stack.extend(item)
        elif isinstance(item, MappingProxyType):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif dataclasses.is_dataclass(item) and not isinstance(item, type) \
                and item.__dataclass_params__.frozen:  # type: ignore[union-attr]
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif getattr(item, "_sealed", False) is True and hasattr(type(item), "__slots__"):
            stack.extend(getattr(item, name) for name in type(item).__slots__ if name != "_sealed")
        else:
            raise TypeError(f"read cache: a mutable {type(item).__name__} would be shared between readers")


def _check_values() -> bool:
    if not has_app_context():
        return False
    app = current_app
    check = app.config.get("READ_CACHE_CHECK_IMMUTABLE")
    return bool(app.testing or app.debug) if check is None else bool(check)


def cached(key: Hashable | None, build: Callable[[], T]) -> T:
    """The value for ``key`` (built and kept on a miss); ``key`` None builds without caching. Callers use
    ``remember`` (or ``PlanView.derived``), which make the key.

    The value must be immutable (see the module docstring); checked in testing and debug mode.
    """
    if key is None:
        return build()
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            return _entries[key]  # type: ignore[return-value]
    value = build()
    if _check_values():
        assert_immutable(value)
    with _lock:
        _entries[key] = value
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


_CURRENT = object()


def remember(what: str, params: Hashable, build: Callable[[], T], *, revision=_CURRENT) -> T:
    """The value of ``what`` for ``params`` as of a data revision (the current one unless ``revision``
    is given): built once per revision in this process. Callers name what they need; the key (database,
    revision, what, params) is made here. No revision recorded yet: built every time, never kept."""
    rev = revision_key() if revision is _CURRENT else revision
    return cached(None if rev is None else (what, rev, params), build)


def clear() -> None:
    with _lock:
        _entries.clear()
