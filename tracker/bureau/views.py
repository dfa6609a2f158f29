from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..auth.access import roles_required
from ..extensions import db
from ..lights import report_period
from ..models import Unit
from ..services.bureau import (
    missing_reports, overdue_rows, overdue_workbook, parse_overdue_filter, parse_period, urge,
)
from ..services.errors import Invalid
from ..validation import parse_id
from ..web import actor, request_today, write_today
from . import bp
from .forms import UrgeForm

READERS = ("admin", "supervisor", "viewer")
SUPERVISORS = ("admin", "supervisor")


def _units():
    return list(db.session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)).scalars())


@bp.route("/overdue")
@roles_required(*READERS)
def overdue():
    today = request_today()
    filt = parse_overdue_filter(request.args)
    rows, roots = overdue_rows(today, filt)
    by_unit: dict[int, int] = {}
    for row in rows:
        for u in row.task.lead_units:
            by_unit[u.id] = by_unit.get(u.id, 0) + 1
    return render_template("bureau/overdue.html", rows=rows, roots=roots, units=_units(), filt=filt, today=today,
                           args=request.args, form=UrgeForm(), by_unit=by_unit)


@bp.route("/overdue/export.xlsx")
@roles_required(*READERS)
def overdue_export():
    today = request_today()
    rows, _roots = overdue_rows(today, parse_overdue_filter(request.args))
    data = overdue_workbook(rows, today)
    filename = f"overdue-{today.isoformat()}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _back(default: str) -> str:
    target = request.form.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


@bp.route("/overdue/urge", methods=["POST"])
@roles_required(*SUPERVISORS)
def urge_post():
    form = UrgeForm()
    back = _back(url_for("bureau.overdue"))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return redirect(back)
    try:
        # Validate everything first; the date is the app's clock (``?today=`` is never honoured here).
        task_id = parse_id(form.task_id.data, field="task_id", label="催办任务")
        unit_id = parse_id(form.unit_id.data, field="unit_id", label="催办单位")
        today = write_today()
        result = urge(actor(), today, task_id=task_id, unit_id=unit_id, note=form.note.data or "")
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(back)
    if result.units:
        flash(f"已向 {'、'.join(result.units)} 发出催办邮件（{result.tasks}项任务，已加入发件箱），并记入任务历史。", "success")
    if result.duplicates:
        flash(f"今日已向 {'、'.join(result.duplicates)} 催办过，未重复发送。", "info")
    return redirect(back)


@bp.route("/missing")
@roles_required(*READERS)
def missing():
    today = request_today()
    period = parse_period(request.args.get("period"), today)
    unit_id = parse_id(request.args.get("unit"), field="unit", label="单位编号")
    groups = missing_reports(period, unit_id)
    current = report_period(today)
    due_day = int(current_app.config.get("REPORT_DUE_DAY", 25))
    not_yet_due = period == current and today.day <= due_day
    return render_template("bureau/missing.html", groups=groups, period=period, units=_units(), unit_id=unit_id,
                           today=today, not_yet_due=not_yet_due, due_day=due_day,
                           total=sum(len(g.measures) for g in groups), form=UrgeForm())
