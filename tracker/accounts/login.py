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
blocked pair does not extend its delay.

The decision holds under parallel attempts (several workers and hosts): before
a password is checked, ``reserve_attempt`` counts and records the attempt in
one short transaction that holds a database lock for the address and the
account (PostgreSQL advisory transaction locks; on SQLite the transaction's
first statement is a write, which takes the database's write lock, like BEGIN
IMMEDIATE). The attempt row is committed before the (slow) password check, so
at most ``PAIR_FREE_FAILURES`` parallel guesses of one pair and
``IP_MAX_FAILURES`` of one address are ever checked; a successful login removes
its row again. The same limits apply to usernames
that do not exist, and an unknown username costs one password hash like a
known one, so neither the answer nor its timing tells whether it exists.

``now`` (naive UTC) is a parameter so tests can move the clock.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash

from .. import audit
from ..extensions import db
from ..models import LoginAttempt, User, utcnow

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


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"tracker-login:{kind}:{value}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(username: str, ip: str, now: datetime) -> None:
    """Serialise throttle decisions for this address and this account until the transaction ends."""
    if db.session.get_bind().dialect.name == "postgresql":
        for key in sorted({_lock_key("ip", ip), _lock_key("user", username)}):
            db.session.execute(select(func.pg_advisory_xact_lock(key)))
    # On SQLite this write is the transaction's first statement, so SQLite takes its write lock
    # now (waiting for it under busy_timeout): the counts and the insert that follow happen with
    # no other writer in between. Everywhere it forgets records older than every window.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - PAIR_WINDOW))


def reserve_attempt(username: str, ip: str, now: Optional[datetime] = None) -> int:
    """Decide and count one password check atomically; the attempt's id, or LoginThrottled.

    Commits the caller's session first (a fresh transaction for the lock), then records the
    attempt as a failure and commits; ``release_attempt`` removes it when the password was right.
    """
    now = now or utcnow()
    ip, username = (ip or "")[:64], _key(username)
    db.session.commit()
    try:
        _lock(username, ip, now)
        check_throttle(username, ip, now)
    except BaseException:
        db.session.rollback()
        raise
    attempt = LoginAttempt(ip=ip, username=username, created_at=now)
    db.session.add(attempt)
    db.session.commit()
    return attempt.id


def release_attempt(attempt_id: int) -> None:
    """The reserved check succeeded: it was no failure. The caller commits."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))


def record_failure(username: str, user: Optional[User], detail: str, ip: str = "") -> None:
    """Audit one failed password check (its attempt row was written by ``reserve_attempt``)."""
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

    The attempt is counted before the password is checked (``reserve_attempt``); failures are
    audited; the caller commits.
    """
    now = now or utcnow()
    username = _key(username)
    try:
        attempt_id = reserve_attempt(username, ip, now)
    except LoginThrottled:
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        audit.record("login_failed", user, username=username, ip=ip, detail="尝试过多，已暂时阻止")
        raise
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = verify_password(user, password)
    if user is None or not ok or not user.active:
        detail = "用户名或密码错误"
        if user is None:
            detail = "用户名不存在"
        elif ok and not user.active:
            detail = "账号已停用"
        record_failure(username, user, detail, ip)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    release_attempt(attempt_id)
    clear_failures(username, ip)
    return user
