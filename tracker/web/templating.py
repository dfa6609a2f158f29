"""Jinja filters and globals: Chinese labels, lights, dates in local time."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, url_for
from flask_login import current_user

from ..clock import local_time
from ..rules.lights import LIGHT_LABELS
from ..rules.periods import label_cn
from ..rules.roles import ADMIN, READERS, SUPERVISING, UNIT
from ..rules.status import STATUS_LABELS, status_label

LIGHT_CLASSES = {"red": "danger", "yellow": "warning", "green": "success", "done": "secondary"}

# Navigation: (endpoint, label, roles allowed or None for everyone logged in).
NAV = [
    ("dashboard.index", "总览", None),
    ("ledger.index", "工作台账", None),
    ("tasks.mine", "本单位任务", (UNIT,)),
    ("bureau.overdue", "逾期清单", READERS),
    ("bureau.missing", "未报送", READERS),
    ("review.pending", "待审核", SUPERVISING),
    ("extensions.queue", "延期申请", SUPERVISING),
    ("documents.index", "报表", READERS),
    ("admin.units", "单位", SUPERVISING),
    ("admin.users", "用户", (ADMIN,)),
    ("imports.upload", "导入", (ADMIN,)),
    ("outbox.index", "发件箱", SUPERVISING),
    ("robots.mine", "群机器人", (UNIT,)),
    ("robots.bureau_page", "群机器人", (ADMIN,)),
    ("admin.audit", "审计日志", SUPERVISING),
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
