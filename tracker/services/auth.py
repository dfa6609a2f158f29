"""Password login with throttling that cannot be turned into a lock-out of everyone.

Every failed login (known or unknown username) is one ``LoginAttempt`` row
(address, username, time). Three limits are read from those rows:

* per (account, address) pair: after ``PAIR_FREE_FAILURES`` failures the pair
  must wait a short delay that doubles with each further failure, capped at
  ``PAIR_MAX_DELAY``. An attacker slows down only their own address; the
  owner logging in from elsewhere is not affected;
* per address: ``IP_MAX_FAILURES`` failures in ``IP_WINDOW`` block the address
  for every account (password spraying);
* per account, all addresses together: a generous cap
  (``ACCOUNT_MAX_FAILURES`` in ``ACCOUNT_WINDOW``) against a distributed guess
  of one password; it only lasts until the window moves on.

Attempts refused by a limit are audited but not counted again, so hammering a
blocked pair does not extend its delay. The same limits apply to usernames
that do not exist, and an unknown username costs one password hash like a
known one, so neither the answer nor its timing tells whether it exists.

``now`` (naive UTC) is a parameter so tests can move the clock.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from ..extensions import db
from ..models import LoginAttempt, User, utcnow
from . import audit

PAIR_FREE_FAILURES = 5  # failures of one (account, address) pair before it is slowed down
PAIR_BASE_DELAY = timedelta(seconds=30)
PAIR_MAX_DELAY = timedelta(minutes=15)
PAIR_WINDOW = timedelta(hours=24)  # failures older than this are forgotten
IP_WINDOW = timedelta(minutes=15)
IP_MAX_FAILURES = 30
ACCOUNT_WINDOW = timedelta(minutes=15)
ACCOUNT_MAX_FAILURES = 200

_dummy_hashes: dict[str, str] = {}


class LoginThrottled(Exception):
    def __init__(self, message: str, retry_after: int = 60):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _key(username: str) -> str:
    return (username or "")[:80]


def pair_delay(failures: int) -> timedelta:
    """How long a pair waits after its ``failures``-th failure (0 while still free)."""
    extra = failures - PAIR_FREE_FAILURES
    if extra < 0:
        return timedelta(0)
    return min(PAIR_BASE_DELAY * (2 ** min(extra, 20)), PAIR_MAX_DELAY)


def _minutes(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 59) // 60)


def check_throttle(username: str, ip: str, now: Optional[datetime] = None) -> None:
    """Raise LoginThrottled when this account/address may not try a password now."""
    now = now or utcnow()
    ip = (ip or "")[:64]
    username = _key(username)
    ip_since = now - IP_WINDOW
    row = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at))
        .where(LoginAttempt.ip == ip, LoginAttempt.created_at >= ip_since)
    ).one()
    if row[0] >= IP_MAX_FAILURES:
        wait = row[1] + IP_WINDOW - now
        raise LoginThrottled(f"该地址登录失败次数过多，请 {_minutes(wait)} 分钟后再试。", int(wait.total_seconds()) + 1)

    row = db.session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.created_at))
        .where(LoginAttempt.username == username, LoginAttempt.ip == ip,
               LoginAttempt.created_at >= now - PAIR_WINDOW)
    ).one()
    failures, last = row[0], row[1]
    if failures >= PAIR_FREE_FAILURES and last is not None:
        until = last + pair_delay(failures)
        if until > now:
            wait = until - now
            raise LoginThrottled(f"该账号登录失败次数过多，请 {_minutes(wait)} 分钟后再试。",
                                 int(wait.total_seconds()) + 1)

    row = db.session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.created_at))
        .where(LoginAttempt.username == username, LoginAttempt.created_at >= now - ACCOUNT_WINDOW)
    ).one()
    if row[0] >= ACCOUNT_MAX_FAILURES:
        wait = row[1] + ACCOUNT_WINDOW - now
        raise LoginThrottled(f"该账号登录失败次数过多，请 {_minutes(wait)} 分钟后再试。", int(wait.total_seconds()) + 1)


def record_failure(username: str, ip: str, user: Optional[User], detail: str,
                   now: Optional[datetime] = None) -> None:
    """Count one failed password check (known or unknown username) and audit it."""
    now = now or utcnow()
    db.session.add(LoginAttempt(ip=(ip or "")[:64], username=_key(username), created_at=now))
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
    audit.record("login_failed", user, username=_key(username), ip=ip or "", detail=detail)


def clear_failures(username: str, ip: Optional[str] = None) -> None:
    """Forget failures of an account (from one address, or from all when ``ip`` is None)."""
    stmt = delete(LoginAttempt).where(LoginAttempt.username == _key(username))
    if ip is not None:
        stmt = stmt.where(LoginAttempt.ip == (ip or "")[:64])
    db.session.execute(stmt)


def _dummy_hash() -> str:
    """A hash made like real ones, checked when the username is unknown (equal timing)."""
    from .users import hash_password

    method = current_app.config.get("PASSWORD_HASH_METHOD") or "default"
    if method not in _dummy_hashes:
        _dummy_hashes[method] = hash_password("not-a-real-password-\u2603")
    return _dummy_hashes[method]


def verify_password(user: Optional[User], password: str) -> bool:
    """Check ``password``; costs one hash even when there is no user or no stored hash."""
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password or "")
        return False
    return check_password_hash(user.password_hash, password or "")


def authenticate(username: str, password: str, *, ip: str = "", now: Optional[datetime] = None) -> Optional[User]:
    """The user for these credentials, or None. Raises LoginThrottled while blocked.

    Records failures (attempt row and audit entry); the caller commits.
    """
    now = now or utcnow()
    username = _key(username)
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    try:
        check_throttle(username, ip, now)
    except LoginThrottled:
        audit.record("login_failed", user, username=username, ip=ip, detail="尝试过多，已暂时阻止")
        raise
    ok = verify_password(user, password)
    if user is None or not ok or not user.active:
        detail = "用户名或密码错误"
        if user is None:
            detail = "用户名不存在"
        elif ok and not user.active:
            detail = "账号已停用"
        record_failure(username, ip, user, detail, now)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    clear_failures(username, ip)
    # Records older than every window are no longer needed.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - PAIR_WINDOW))
    return user
