"""Password login with throttling (per account and per address).

Failed attempts slow an account down for a short, growing time instead of
locking it for good, so an attacker cannot lock everyone out; an address that
fails too often is blocked for a while whatever account it tries.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Optional

from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginAttempt, User, utcnow
from . import audit

ACCOUNT_FREE_FAILURES = 5  # failures before the account is slowed down
ACCOUNT_MAX_DELAY = timedelta(minutes=15)
IP_WINDOW = timedelta(minutes=15)
IP_MAX_FAILURES = 30


class LoginThrottled(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _ip_failures(ip: str) -> int:
    since = utcnow() - IP_WINDOW
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(LoginAttempt.ip == ip, LoginAttempt.created_at >= since)
    ) or 0


def authenticate(username: str, password: str, *, ip: str = "") -> Optional[User]:
    """The user for these credentials, or None. Raises LoginThrottled while blocked.

    Records failures (audit log and counters); the caller commits.
    """
    now = utcnow()
    if ip and _ip_failures(ip) >= IP_MAX_FAILURES:
        audit.record("login_failed", None, username=username[:80], ip=ip, detail="来源地址尝试过多，已暂时阻止")
        raise LoginThrottled("该地址登录失败次数过多，请 15 分钟后再试。")
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record("login_failed", user, ip=ip, detail="账号暂时锁定中")
        wait = int((user.locked_until - now).total_seconds() // 60) + 1
        raise LoginThrottled(f"该账号登录失败次数过多，请 {wait} 分钟后再试。")
    if user is None or not user.active or not user.check_password(password):
        db.session.add(LoginAttempt(ip=ip[:64], username=username[:80]))
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            extra = user.failed_logins - ACCOUNT_FREE_FAILURES
            if extra >= 0:
                user.locked_until = now + min(timedelta(seconds=30 * (2 ** min(extra, 10))), ACCOUNT_MAX_DELAY)
        audit.record("login_failed", user, username=username[:80], ip=ip,
                     detail="账号已停用" if user is not None and not user.active else "用户名或密码错误")
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    # Old per-address records are no longer needed.
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - IP_WINDOW))
    return user
