"""Jinja filters and globals: Chinese labels, lights, dates in local time."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import Flask, current_app, url_for
from flask_login import current_user

from ..rules.lights import LIGHT_LABELS
from ..rules.periods import label_cn
from ..rules.status import STATUS_LABELS, status_label

LIGHT_CLASSES = {"red": "danger", "yellow": "warning", "green": "success", "done": "secondary"}

# Navigation: (endpoint, label, roles allowed or None for everyone logged in).
# An entry shows only when its endpoint exists, so features plug in by name.
NAV = [
    ("dashboard.index", "总览", None),
    ("ledger.index", "工作台账", None),
    ("tasks.mine", "本单位任务", ("unit",)),
    ("bureau.overdue", "逾期清单", ("admin", "supervisor", "viewer")),
    ("bureau.missing", "未报送", ("admin", "supervisor", "viewer")),
    ("review.pending", "待审核", ("admin", "supervisor")),
    ("extensions.queue", "延期申请", ("admin", "supervisor")),
    ("documents.index", "报表", ("admin", "supervisor", "viewer")),
    ("admin.units", "单位", ("admin", "supervisor")),
    ("admin.users", "用户", ("admin",)),
    ("imports.upload", "导入", ("admin",)),
    ("outbox.index", "发件箱", ("admin", "supervisor")),
    ("robots.mine", "群机器人", ("unit",)),
    ("robots.bureau_page", "群机器人", ("admin",)),
    ("admin.audit", "审计日志", ("admin", "supervisor")),
]


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    tz = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    return value.replace(tzinfo=timezone.utc).astimezone(tz).strftime(fmt)


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def register(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = local_dt
    app.jinja_env.filters["fmt_date"] = fmt_date
    app.jinja_env.filters["light_label"] = lambda light: LIGHT_LABELS.get(light, light)
    app.jinja_env.filters["light_class"] = lambda light: LIGHT_CLASSES.get(light, "secondary")
    app.jinja_env.filters["status_label"] = status_label
    app.jinja_env.filters["period_label"] = label_cn
    app.jinja_env.globals["STATUS_LABELS"] = STATUS_LABELS
    app.jinja_env.globals["LIGHT_LABELS"] = LIGHT_LABELS
    from ..reporting.attachments import PREVIEWABLE

    app.jinja_env.globals["previewable"] = PREVIEWABLE
    from ..plans.service import level_name

    app.jinja_env.filters["level_name"] = level_name
    from ..plans.excel_export import parent_head

    app.jinja_env.globals["task_head"] = parent_head

    @app.context_processor
    def _nav():
        def nav_items():
            if not current_user.is_authenticated:
                return []
            items = []
            for endpoint, label, roles in NAV:
                if endpoint in app.view_functions and (roles is None or current_user.role in roles):
                    items.append((endpoint, label, url_for(endpoint)))
            return items

        def has_endpoint(name: str) -> bool:
            return name in app.view_functions

        return {"nav_items": nav_items, "has_endpoint": has_endpoint, "todo_badge": todo_badge}

    def todo_badge():
        """Unread to-do items of the logged-in user for the nav badge (None: no badge for this role)."""
        if not current_user.is_authenticated or not (current_user.is_supervisor or current_user.role == "unit"):
            return None
        from ..errors import Invalid
        from ..notify.todo import badge_count
        from .request import app_today, light_rules, request_today

        try:
            try:
                today = request_today()
            except Invalid:
                today = app_today()
            return badge_count(current_user._get_current_object(), today, light_rules())
        except Exception:  # an error page must render even when the database does not answer
            app.logger.exception("to-do badge not computed")
            return None
