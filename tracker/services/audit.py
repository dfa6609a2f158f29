"""Audit log: who did what, when (SPEC 2)."""
from __future__ import annotations

from ..extensions import db
from ..models import AuditLog, User

ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出",
    "progress_update": "报送进展",
    "review_approve": "审核通过（销号）",
    "review_return": "退回",
    "reopen": "重新打开",
    "urge": "催办",
    "import_plan": "导入计划",
    "seed": "载入参考数据",
    "user_create": "新建用户",
    "user_update": "修改用户",
    "user_deactivate": "停用用户",
    "user_reactivate": "启用用户",
    "password_reset": "重置密码",
    "password_change": "修改密码",
    "unit_create": "新建单位",
    "unit_update": "修改单位",
    "token_create": "创建令牌",
    "notification_resend": "重发邮件",
    "webhook_set": "设置群机器人",
    "webhook_unset": "删除群机器人",
    "webhook_test": "发送测试消息",
}


def record(action: str, actor: User | None = None, *, target_type: str = "", target_id: int | None = None,
           detail: str = "", ip: str = "", username: str = "") -> AuditLog:
    """Add an audit entry to the session; the caller's use case commits it."""
    entry = AuditLog(
        action=action,
        user_id=actor.id if actor is not None else None,
        username=username or (actor.username if actor is not None else ""),
        target_type=target_type,
        target_id=target_id,
        detail=detail[:2000],
        ip=ip[:64],
    )
    db.session.add(entry)
    return entry
