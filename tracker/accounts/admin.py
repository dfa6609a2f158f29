"""Administration use cases: users, units, the audit log, own password.

Each change is one use case: validate everything first (Invalid with field
errors, nothing written), change, write an audit entry, commit once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .. import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import LEAD, UNIT_KINDS, AuditLog, Unit, User
from ..rules.roles import ROLE_LABELS, ROLES, UNIT
from ..validation import check_text, collect, parse_date, parse_id
from .login import clear_failures, record_failure, release_attempt, reserve_attempt, verify_password
from .tokens import end_access
from .users import EMAIL_RE, create_user, hash_password, validate_password

AUDIT_PER_PAGE = 50
EMAIL_SPLIT_RE = re.compile(r"[;,，；、\s]+")


# --------------------------------------------------------------------------- users

def list_users() -> list[User]:
    return list(db.session.execute(
        select(User).options(joinedload(User.unit)).order_by(User.active.desc(), User.role, User.username)
    ).scalars())


def all_units() -> list[Unit]:
    return list(db.session.execute(select(Unit).order_by(Unit.active.desc(), Unit.id)).scalars())


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("未找到该用户")
    return user


def _resolve_unit(role: str, unit_id: str | int | None, errors: dict) -> Optional[Unit]:
    text = str(unit_id or "").strip()
    if not text:
        if role == UNIT:
            errors["unit"] = ["责任单位联络员必须指定所属单位"]
        return None
    try:
        number = parse_id(text, field="unit", label="所属单位")
    except Invalid:
        number = None
    unit = db.session.get(Unit, number) if number is not None else None
    if unit is None:
        errors["unit"] = ["未找到该单位"]
    return unit


def admin_create_user(actor: User, *, username: str, display_name: str, email: str, role: str,
                      unit_id: str | int | None, password: str) -> User:
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = ["未知角色"]
    unit = _resolve_unit(role, unit_id, errors)
    display_name = check_text(display_name, field="display_name", label="显示名称", errors=errors,
                              single_line=True, max_chars=120)
    email = check_text(email, field="email", label="邮箱", errors=errors, single_line=True, max_chars=200)
    try:
        user = create_user(username, role if role in ROLES else "", password, unit=str(unit.id) if unit else None,
                           email=email, display_name=display_name, actor=actor)
    except Invalid as exc:
        for key, msgs in exc.errors.items():
            errors.setdefault(key, msgs)
        raise Invalid(errors) from None
    if errors:
        db.session.rollback()
        raise Invalid(errors)
    db.session.commit()
    return user


def update_user(actor: User, user_id: int, *, display_name: str, email: str, role: str,
                unit_id: str | int | None) -> User:
    user = get_user(user_id)
    errors: dict[str, list[str]] = {}
    display_name = check_text(display_name, field="display_name", label="显示名称", errors=errors,
                              single_line=True, required=True, max_chars=120)
    email = check_text(email, field="email", label="邮箱", errors=errors, single_line=True)
    if email and (len(email) > 200 or not EMAIL_RE.match(email)):
        errors["email"] = ["邮箱格式不正确"]
    if role not in ROLES:
        errors["role"] = ["未知角色"]
    elif user.id == actor.id and role != user.role:
        errors["role"] = ["不能修改自己的角色"]
    unit = _resolve_unit(role, unit_id, errors)
    if errors:
        raise Invalid(errors)
    changes = []
    if user.display_name != display_name:
        changes.append(f"显示名称：{user.display_name} → {display_name}")
    if (user.email or "") != email:
        changes.append(f"邮箱：{user.email or '（空）'} → {email or '（空）'}")
    if user.role != role:
        changes.append(f"角色：{ROLE_LABELS[user.role]} → {ROLE_LABELS[role]}")
    if user.unit_id != (unit.id if unit else None):
        old = user.unit.short_name if user.unit else "（无）"
        changes.append(f"单位：{old} → {unit.short_name if unit else '（无）'}")
    user.display_name, user.email, user.role, user.unit = display_name, email, role, unit
    if changes:
        audit.record("user_update", actor, target_type="user", target_id=user.id,
                     detail=f"{user.username}：" + "；".join(changes))
    db.session.commit()
    return user


def set_user_active(actor: User, user_id: int, active: bool) -> User:
    user = get_user(user_id)
    if user.id == actor.id and not active:
        raise Invalid({"active": ["不能停用自己的账号"]})
    if user.active == active:
        return user
    user.active = active
    note = ""
    if active:  # old tokens stay revoked: they were revoked at the deactivation
        user.failed_logins = 0
        clear_failures(user.username)
    else:
        note = "；" + end_access(user)
    audit.record("user_deactivate" if not active else "user_reactivate", actor, target_type="user",
                 target_id=user.id, detail=f"{user.username}：{'重新启用' if active else '停用'}{note}")
    db.session.commit()
    return user


def reset_password(actor: User, user_id: int, password: str, confirm: Optional[str] = None, *,
                   keep_session: Optional[str] = None) -> User:
    """Set a new password; every session of the user (but the admin's own current one) ends and every
    token is revoked."""
    user = get_user(user_id)
    errors: dict[str, list[str]] = {}
    pw_errors = validate_password(password)
    if pw_errors:
        errors["password"] = pw_errors
    elif confirm is not None and confirm != password:
        errors["confirm"] = ["两次输入的密码不一致"]
    if errors:
        raise Invalid(errors)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    clear_failures(user.username)
    note = end_access(user, keep_session=keep_session if actor.id == user.id else None)
    audit.record("password_reset", actor, target_type="user", target_id=user.id, detail=f"{user.username}；{note}")
    db.session.commit()
    return user


def change_own_password(user: User, current: str, new: str, confirm: str, *, ip: str = "",
                        now: Optional[datetime] = None, keep_session: Optional[str] = None) -> None:
    """Change one's own password; a wrong current password counts as a failed login.

    Every other session of the user (all but ``keep_session``) ends and every API token is revoked.

    Raises LoginThrottled while the account/address is throttled, Invalid on bad input.
    """
    attempt_id = reserve_attempt(user.username, ip, now)
    errors: dict[str, list[str]] = {}
    if not verify_password(user, current or ""):
        record_failure(user.username, user, "修改密码时当前密码错误", ip)
        db.session.commit()
        raise Invalid({"current": ["当前密码不正确"]})
    release_attempt(attempt_id)
    db.session.commit()
    pw_errors = validate_password(new)
    if pw_errors:
        errors["new"] = pw_errors
    elif new == current:
        errors["new"] = ["新密码不能与当前密码相同"]
    if not errors and new != confirm:
        errors["confirm"] = ["两次输入的密码不一致"]
    if errors:
        raise Invalid(errors)
    user.password_hash = hash_password(new)
    note = end_access(user, keep_session=keep_session, now=now)
    audit.record("password_change", user, target_type="user", target_id=user.id, ip=ip,
                 detail=f"{user.username}；{note}")
    db.session.commit()


# --------------------------------------------------------------------------- units

@dataclass
class UnitRow:
    unit: Unit
    led: int
    co: int
    users: int


def list_units() -> list[UnitRow]:
    """Every unit with its measure and user counts (three queries whatever the size)."""
    units = all_units()
    from ..plans.access import measure_counts_by_unit

    links = measure_counts_by_unit()  # measures (leaves) only, as on the dashboard
    users = dict(db.session.execute(
        select(User.unit_id, func.count(User.id)).where(User.unit_id.is_not(None)).group_by(User.unit_id)
    ).all())
    return [UnitRow(u, links.get((u.id, LEAD), 0), sum(c for (uid, r), c in links.items() if uid == u.id and r != LEAD),
                    users.get(u.id, 0)) for u in units]


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("未找到该单位")
    return unit


def parse_emails(text: str) -> tuple[list[str], list[str]]:
    """Split liaison emails on ; , or whitespace/newlines. Returns (emails, bad ones)."""
    emails: list[str] = []
    bad: list[str] = []
    for part in EMAIL_SPLIT_RE.split(text or ""):
        part = part.strip()
        if not part:
            continue
        if len(part) > 200 or not EMAIL_RE.match(part):
            bad.append(part)
        elif part.lower() not in (e.lower() for e in emails):
            emails.append(part)
    return emails, bad


def _validate_unit(unit: Optional[Unit], full_name: str, short_name: str, kind: str, emails: str) -> tuple[dict, list]:
    errors: dict[str, list[str]] = {}
    # Names go into mail subjects and the ledger: one line, no control characters (validation.py).
    full_name = check_text(full_name, field="full_name", label="单位全称", errors=errors, single_line=True,
                           required=True, max_chars=200)
    short_name = check_text(short_name, field="short_name", label="单位简称", errors=errors, single_line=True,
                            required=True, max_chars=100)
    emails = check_text(emails, field="emails", label="联络员邮箱", errors=errors, max_chars=5000)
    if "short_name" in errors:
        pass
    elif short_name.isdigit():
        errors["short_name"] = ["单位简称不能全为数字"]
    if full_name.isdigit() and "full_name" not in errors:
        errors["full_name"] = ["单位全称不能全为数字"]
    if kind not in UNIT_KINDS:
        errors["kind"] = [f"类别应为 {'、'.join(UNIT_KINDS)} 之一"]
    # A name may not equal another unit's full or short name (units are found by either).
    for field, name, label in (("full_name", full_name, "全称"), ("short_name", short_name, "简称")):
        if field in errors or not name:
            continue
        stmt = select(Unit.full_name).where(or_(Unit.full_name == name, Unit.short_name == name))
        if unit is not None:
            stmt = stmt.where(Unit.id != unit.id)
        other = db.session.execute(stmt.limit(1)).scalar_one_or_none()
        if other is not None:
            errors[field] = [f"单位{label}“{name}”已被“{other}”使用"]
    email_list, bad = parse_emails(emails)
    if bad:
        errors["emails"] = ["邮箱格式不正确：" + "、".join(bad)]
    return errors, email_list


def create_unit(actor: User, *, full_name: str, short_name: str, kind: str, emails: str = "",
                active: bool = True, law_enforcement: bool = False) -> Unit:
    full_name, short_name = (full_name or "").strip(), (short_name or "").strip()
    errors, email_list = _validate_unit(None, full_name, short_name, kind, emails)
    if errors:
        raise Invalid(errors)
    unit = Unit(full_name=full_name, short_name=short_name, kind=kind, emails=";".join(email_list),
                active=bool(active), law_enforcement=bool(law_enforcement))
    db.session.add(unit)
    db.session.flush()
    audit.record("unit_create", actor, target_type="unit", target_id=unit.id,
                 detail=f"{full_name}（{short_name}，{kind}{'，行政执法部门' if law_enforcement else ''}）"
                 + (f"，邮箱：{';'.join(email_list)}" if email_list else ""))
    db.session.commit()
    return unit


def update_unit(actor: User, unit_id: int, *, full_name: str, short_name: str, kind: str, emails: str,
                active: bool, law_enforcement: Optional[bool] = None) -> Unit:
    unit = get_unit(unit_id)
    full_name, short_name = (full_name or "").strip(), (short_name or "").strip()
    errors, email_list = _validate_unit(unit, full_name, short_name, kind, emails)
    if errors:
        raise Invalid(errors)
    new_emails = ";".join(email_list)
    changes = []
    for label, old, new in (("全称", unit.full_name, full_name), ("简称", unit.short_name, short_name),
                            ("类别", unit.kind, kind), ("联络邮箱", unit.emails or "", new_emails)):
        if old != new:
            changes.append(f"{label}：{old or '（空）'} → {new or '（空）'}")
    if unit.active != bool(active):
        changes.append("启用" if active else "停用")
    if law_enforcement is not None and unit.law_enforcement != bool(law_enforcement):
        changes.append("标为行政执法部门" if law_enforcement else "取消行政执法部门标记")
        unit.law_enforcement = bool(law_enforcement)
    unit.full_name, unit.short_name, unit.kind, unit.emails, unit.active = (
        full_name, short_name, kind, new_emails, bool(active))
    if changes:
        audit.record("unit_update", actor, target_type="unit", target_id=unit.id,
                     detail=f"{unit.full_name}：" + "；".join(changes))
    db.session.commit()
    return unit


# --------------------------------------------------------------------------- audit log

@dataclass
class AuditFilter:
    action: str = ""
    username: str = ""
    date_from: Optional[date] = None
    date_to: Optional[date] = None
    keyword: str = ""


def parse_audit_filter(args) -> AuditFilter:
    """Filters from query arguments; Invalid with field errors on bad values."""
    errors: dict[str, list[str]] = {}
    action = (args.get("action") or "").strip()
    if action and action not in audit.ACTION_LABELS:
        errors["action"] = ["未知的操作类型"]
    dates: dict[str, Optional[date]] = {}
    for field in ("date_from", "date_to"):
        dates[field] = collect(errors, parse_date, args.get(field), field=field, label="日期")
    if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
        errors["date_to"] = ["结束日期不能早于开始日期"]
    username = (args.get("username") or "").strip()[:80]
    keyword = (args.get("q") or "").strip()[:200]
    if errors:
        raise Invalid(errors)
    return AuditFilter(action, username, dates["date_from"], dates["date_to"], keyword)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _utc_start(day: date, tz: str) -> datetime:
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def search_audit(filt: AuditFilter, page: int = 1, *, tz: str, per_page: int = AUDIT_PER_PAGE):
    """One page of the audit log, newest first (two queries: count and rows)."""
    stmt = select(AuditLog)
    if filt.action:
        stmt = stmt.where(AuditLog.action == filt.action)
    if filt.username:
        stmt = stmt.where(AuditLog.username.ilike(_like(filt.username), escape="\\"))
    if filt.keyword:
        stmt = stmt.where(AuditLog.detail.ilike(_like(filt.keyword), escape="\\"))
    if filt.date_from:
        stmt = stmt.where(AuditLog.created_at >= _utc_start(filt.date_from, tz))
    if filt.date_to:
        stmt = stmt.where(AuditLog.created_at < _utc_start(filt.date_to + timedelta(days=1), tz))
    stmt = stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    return db.paginate(stmt, page=max(1, page), per_page=per_page, error_out=False, max_per_page=per_page)

