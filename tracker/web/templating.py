"""Jinja filters and globals: Chinese labels, lights, dates in local time."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, url_for
from flask_login import current_user

from ..clock import local_time
from ..rules.lights import LIGHT_LABELS
from ..rules.periods import label_cn
from ..rules.status import STATUS_LABELS, status_label

LIGHT_CLASSES = {"red": "danger", "yellow": "warning", "green": "success", "done": "secondary"}

# Navigation: (endpoint, label, roles allowed or None for everyone logged in).
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
    return local_time(value, current_app.config["TIMEZONE"], fmt)


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

    @app.context_processor
    def _nav():
        def nav_items():
            if not current_user.is_authenticated:
                return []
            items = []
            for endpoint, label, roles in NAV:
                if roles is None or current_user.role in roles:
                    items.append((endpoint, label, url_for(endpoint)))
            return items

        return {"nav_items": nav_items}
