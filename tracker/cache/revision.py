"""A data revision for read caches: bumped once by every commit that changes plan data.

Session events mark a transaction that writes tasks, their units, units, plans,
progress reports or reviews (ORM flushes and ORM ``update()``/``delete()``
statements alike); just before COMMIT the single ``data_revision`` row is
incremented, so the row lock is held only for the commit itself and commits are
ordered: a reader that sees revision N sees every change up to N.

Writes that do not go through an ORM session (``text("UPDATE …")`` on a
connection, a data migration, a fix in psql) are not seen by these events: after
them call ``bump_revision(connection)`` in the same transaction (migrations that
change data do), or run ``flask --app wsgi bump-revision`` (README, "读缓存").
"""
from __future__ import annotations

import secrets
from typing import Optional

from sqlalchemy import event, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import DataRevision

# The models that hold plan data say so (``__plan_data__ = True``); a commit that writes one bumps the revision.
TRACKED_CLASSES = tuple(sorted((m.class_ for m in db.Model.registry.mappers if m.class_.__dict__.get("__plan_data__")),
                               key=lambda cls: cls.__tablename__))
TRACKED_TABLES = frozenset(cls.__tablename__ for cls in TRACKED_CLASSES)
_FLAG = "tracker_data_changed"


def _touches_tracked(objects) -> bool:
    return any(isinstance(obj, TRACKED_CLASSES) for obj in objects)


def _after_flush(session, _context) -> None:
    if _touches_tracked(session.new) or _touches_tracked(session.dirty) or _touches_tracked(session.deleted):
        session.info[_FLAG] = True


def _on_execute(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is None or getattr(table, "name", None) in TRACKED_TABLES:
        session = state.session
        session.info[_FLAG] = True


def _before_commit(session) -> None:
    session.flush()  # the final flush, so its changes are marked before we look
    if not session.info.pop(_FLAG, False):
        return
    result = session.execute(
        update(DataRevision).where(DataRevision.id == 1).values(revision=DataRevision.revision + 1)
    )
    if result.rowcount == 0:
        try:
            with session.begin_nested():
                session.execute(insert(DataRevision).values(id=1, revision=1, token=secrets.token_hex(8)))
        except IntegrityError:  # another process created it meanwhile
            session.execute(
                update(DataRevision).where(DataRevision.id == 1).values(revision=DataRevision.revision + 1)
            )
    session.info.pop(_FLAG, None)


def _after_rollback(session) -> None:
    session.info.pop(_FLAG, None)


LISTENERS = (("after_flush", _after_flush), ("do_orm_execute", _on_execute), ("before_commit", _before_commit),
             ("after_rollback", _after_rollback))


def install() -> None:
    """Listen to every ORM session's flushes, bulk statements and commits (``create_app`` calls this;
    installing twice is harmless)."""
    for name, listener in LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def current_revision(session: Session) -> Optional[tuple[str, int]]:
    """(token, revision) of the data now, or None when nothing was ever recorded (don't cache)."""
    row = session.execute(select(DataRevision.token, DataRevision.revision).where(DataRevision.id == 1)).first()
    return (row[0], row[1]) if row else None


def bump_revision(bind) -> Optional[int]:
    """Mark the plan data as changed (a Connection or Session; the caller's transaction commits it).

    For writes outside the ORM session: data migrations call it with ``op.get_bind()``, the
    ``bump-revision`` command after manual SQL. Plain SQL, so it works in any migration after the
    ``data_revision`` table exists. Returns the new revision, or None when none was ever recorded
    (then no reader caches anything).
    """
    bind.execute(text("UPDATE data_revision SET revision = revision + 1 WHERE id = 1"))
    return bind.execute(text("SELECT revision FROM data_revision WHERE id = 1")).scalar()
