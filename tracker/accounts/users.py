"""Users and API tokens."""
from __future__ import annotations

import re
from typing import Optional

from flask import current_app
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from .. import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import User
from ..plans.tasks import find_unit
from ..rules.roles import ROLE_LABELS, ROLES, UNIT
from ..validation import check_text, text_problem

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,80}$")
EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD")
    return generate_password_hash(password, method=method) if method else generate_password_hash(password)


def validate_password(password: str) -> list[str]:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return [f"密码至少 {MIN_PASSWORD} 位"]
    if len(password) > 200:
        return ["密码过长"]
    problem = text_problem(password, single_line=True)
    if problem:
        return ["密码" + problem]
    return []


def create_user(username: str, role: str, password: str, *, unit: Optional[str] = None, email: str = "",
                display_name: str = "", actor: Optional[User] = None) -> User:
    """Create a user; Invalid with field errors (nothing written) on bad input. The caller commits."""
    errors: dict[str, list[str]] = {}
    username = (username or "").strip()
    if not USERNAME_RE.fullmatch(username):
        errors["username"] = ["用户名只能包含字母、数字、._-，长度 2–80"]
    elif db.session.execute(select(User.id).where(User.username == username)).first():
        errors["username"] = [f"用户名“{username}”已存在"]
    if role not in ROLES:
        errors["role"] = [f"未知角色“{role}”，应为 {', '.join(ROLES)} 之一"]
    unit_obj = None
    if role == UNIT:
        if not unit:
            errors["unit"] = ["责任单位联络员必须指定所属单位"]
        else:
            try:
                unit_obj = find_unit(unit)
            except NotFound as exc:
                errors["unit"] = [exc.message]
    elif unit:
        try:
            unit_obj = find_unit(unit)
        except NotFound as exc:
            errors["unit"] = [exc.message]
    email = check_text(email, field="email", label="邮箱", errors=errors, single_line=True, max_chars=200)
    if email and not EMAIL_RE.match(email):
        errors["email"] = ["邮箱格式不正确"]
    display_name = check_text(display_name, field="display_name", label="显示名称", errors=errors,
                              single_line=True, max_chars=120)
    pw_errors = validate_password(password)
    if pw_errors:
        errors["password"] = pw_errors
    if errors:
        raise Invalid(errors)
    user = User(username=username, role=role, unit=unit_obj, email=email,
                display_name=(display_name or username).strip(), active=True)
    user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user_create", actor, target_type="user", target_id=user.id,
                 detail=f"{username}（{ROLE_LABELS.get(role, role)}{'，' + unit_obj.short_name if unit_obj else ''}）")
    return user


def get_user_by_name(username: str) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"未找到用户：{username}")
    return user


def create_token(user: User, actor: Optional[User] = None, *, expires_days: Optional[int] = None) -> str:
    """Return a new bearer token for ``user``; only its hash is stored. The caller commits."""
    from .tokens import create

    return create(user, actor, expires_days=expires_days)


def user_for_token(token: str) -> Optional[User]:
    from .tokens import user_for_token as lookup

    return lookup(token)
