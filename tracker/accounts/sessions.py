"""Login sessions that end: one ``user_sessions`` row per login, checked on every request.

The signed session cookie carries only a random key (``SESSION_KEY``); the row
with its hash says whether that login is still alive. Logout ends the row, a
password change or reset ends every other row of the user and deactivation ends
them all, so a cookie captured before any of these stops working in every worker
and on every host at once. ``now`` (naive UTC) is a parameter for tests.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import User, UserSession, utcnow

SESSION_KEY = "_sk"  # name of the key inside Flask's session cookie
ENDED_KEPT = timedelta(days=30)  # ended rows are kept this long (then removed at a later login)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def start(user: User, ip: str = "", now: Optional[datetime] = None) -> str:
    """A new session row for ``user``; returns the key to put into the cookie. The caller commits."""
    now = now or utcnow()
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_hash(key), ip=(ip or "")[:64], created_at=now))
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                                 UserSession.ended_at < now - ENDED_KEPT))
    return key


def user_for(user_id: str, key: Optional[str]) -> Optional[User]:
    """The active user of a live session (``user_id`` and key from the cookie), else None. One query."""
    if not key or len(key) > 100 or not user_id.isascii() or not user_id.isdigit() or len(user_id) > 18:
        return None
    return db.session.execute(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == _hash(key), User.id == int(user_id),
               UserSession.ended_at.is_(None), User.active.is_(True))
    ).scalar_one_or_none()


def end(key: Optional[str], now: Optional[datetime] = None) -> None:
    """End one session (logout). The caller commits."""
    if key:
        db.session.execute(update(UserSession).where(UserSession.key_hash == _hash(key),
                                                     UserSession.ended_at.is_(None))
                           .values(ended_at=now or utcnow()))


def end_all(user: User, *, keep: Optional[str] = None, now: Optional[datetime] = None) -> int:
    """End every live session of ``user`` except the one with key ``keep``; how many. The caller commits."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep:
        stmt = stmt.where(UserSession.key_hash != _hash(keep))
    return db.session.execute(stmt.values(ended_at=now or utcnow())).rowcount or 0


def live_count(user: User) -> int:
    from sqlalchemy import func

    return db.session.execute(select(func.count(UserSession.id))
                              .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))).scalar_one()
