"""API bearer tokens: created with an optional expiry, listed, revoked; only hashes are stored.

A token works while it is not revoked, not expired and its user is active.
A password change or reset and a deactivation revoke every token of the user,
so reactivating a user brings none of its old tokens back.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import or_, select, update

from .. import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import ApiToken, User, utcnow

PREFIX = "apt_"
MAX_EXPIRES_DAYS = 3650
LAST_USED_STEP = timedelta(minutes=1)  # last_used_at is written at most this often per token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_expires_days(raw: Optional[str]) -> Optional[int]:
    """Empty: no expiry; else ASCII digits 1–3650 (Invalid with a field error otherwise)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 5 or not 1 <= int(raw) <= MAX_EXPIRES_DAYS:
        raise Invalid({"expires_days": [f"有效天数应为 1–{MAX_EXPIRES_DAYS} 的整数"]})
    return int(raw)


def create(user: User, actor: Optional[User] = None, *, expires_days: Optional[int] = None,
           now: Optional[datetime] = None) -> str:
    """A new bearer token for ``user`` (expiring after ``expires_days`` when given). The caller commits."""
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise Invalid({"expires_days": [f"有效天数应为 1–{MAX_EXPIRES_DAYS} 的整数"]})
    now = now or utcnow()
    token = PREFIX + secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=expires_days) if expires_days else None
    row = ApiToken(user_id=user.id, token_hash=token_hash(token), prefix=token[:10], created_at=now,
                   expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    detail = f"{user.username}：令牌 {row.prefix}…" + (f"，{expires_days} 天后过期" if expires_days else "，长期有效")
    audit.record("token_create", actor, target_type="user", target_id=user.id, detail=detail)
    return token


def user_for_token(token: str, now: Optional[datetime] = None) -> Optional[User]:
    """The active user of a usable token, or None (unknown, revoked, expired, user deactivated)."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
                               or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        return None
    _touch(row, now)
    return row.user


def _touch(row: ApiToken, now: datetime) -> None:
    """Record when the token was last used, at most once per ``LAST_USED_STEP`` (one guarded UPDATE,
    committed on its own before the view runs, so a busy client does not write on every request)."""
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_STEP:
        return
    db.session.execute(
        update(ApiToken).where(ApiToken.id == row.id,
                               or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_STEP))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    db.session.commit()


def list_for(user: User) -> list[ApiToken]:
    """Every token of ``user``, newest first (revoked and expired ones too, marked by the page)."""
    return list(db.session.execute(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())).scalars())


def revoke(actor: User, user: User, token_id: int, now: Optional[datetime] = None) -> ApiToken:
    """Revoke one token of ``user`` (NotFound when it is not theirs). Audited; the caller commits."""
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("未找到该令牌")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        audit.record("token_revoke", actor, target_type="user", target_id=user.id,
                     detail=f"{user.username}：令牌 {row.prefix}…")
    return row


def revoke_all(user: User, now: Optional[datetime] = None) -> int:
    """Revoke every live token of ``user``; how many. The caller commits (and audits the reason)."""
    return db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    ).rowcount or 0


def end_access(user: User, *, keep_session: Optional[str] = None, now: Optional[datetime] = None) -> str:
    """End the user's other sessions and revoke all tokens (password change, reset, deactivation).

    Returns a short note for the audit entry. The caller commits.
    """
    from .sessions import end_all

    now = now or utcnow()
    sessions = end_all(user, keep=keep_session, now=now)
    tokens = revoke_all(user, now)
    return f"结束会话 {sessions} 个，吊销令牌 {tokens} 个"
