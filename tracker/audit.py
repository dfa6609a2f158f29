"""Audit log: who did what, when (SPEC 2)."""
from __future__ import annotations

from .extensions import db
from .models import AuditLog, User

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
    "unit_group_create": "新建单位组",
    "unit_group_update": "修改单位组",
    "unit_group_delete": "删除单位组",
    "token_create": "创建令牌",
    "token_revoke": "吊销令牌",
    "notification_resend": "重发邮件",
    "webhook_set": "设置群机器人",
    "webhook_unset": "删除群机器人",
    "webhook_test": "发送测试消息",
    "move_evidence": "移动佐证材料",
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


TARGET_LABELS = {"user": "用户", "unit": "单位", "task": "任务", "plan": "计划", "notification": "邮件"}


def target_names(entries) -> dict[tuple[str, int], str]:
    """``(target_type, id) -> 用户 张三 / 单位 区交通局 / 任务 3.2.1 …`` for a page of entries (one statement)."""
    from sqlalchemy import literal, select, union_all

    from .extensions import db
    from .models import Notification, Plan, Task, Unit, User

    columns = {"user": (User, User.display_name + " (" + User.username + ")"), "unit": (Unit, Unit.short_name),
               "task": (Task, Task.code + " " + Task.title), "plan": (Plan, Plan.title),
               "notification": (Notification, Notification.subject)}
    wanted: dict[str, set[int]] = {kind: set() for kind in columns}
    for e in entries:
        if e.target_type in columns and e.target_id is not None:
            wanted[e.target_type].add(e.target_id)
    selects = [select(literal(kind).label("kind"), model.id.label("id"), name.label("name"))
               .where(model.id.in_(sorted(wanted[kind]) or [-1])) for kind, (model, name) in columns.items()]
    names: dict[tuple[str, int], str] = {}
    for kind, row_id, name in db.session.execute(union_all(*selects)):
        text = (name or "").replace(" (", "（").replace(")", "）") if kind == "user" else (name or "")
        names[(kind, row_id)] = f"{TARGET_LABELS[kind]} {text[:40]}"
    for e in entries:
        if e.target_type and (e.target_type, e.target_id) not in names:
            names[(e.target_type, e.target_id)] = f"{TARGET_LABELS.get(e.target_type, '对象')}（已删除）"
    return names
