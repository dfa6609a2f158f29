"""The bureau's lists: 逾期清单 (with Excel export and 催办) and 未报送."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Plan, Unit
from ..plans.access import list_plans
from ..plans.excel_export import content_disposition
from ..rules.lights import report_period
from ..rules.roles import READERS, SUPERVISING
from ..validation import parse_id
from ..web.access import roles_required
from ..web.conditional import conditional_page
from ..web.request import actor, request_today, write_today
from .forms import UrgeForm
from .service import (
    UNIT_ROLES,
    OverdueFilter,
    missing_reports,
    overdue_rows,
    overdue_workbook,
    parse_overdue_filter,
    parse_period,
)
from .urge import urge

bp = Blueprint("bureau", __name__)



def _units():
    return list(db.session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.id)).scalars())


@bp.route("/overdue")
@roles_required(*READERS)
@conditional_page
def overdue():
    today = request_today()
    filt = parse_overdue_filter(request.args)
    rows, roots = overdue_rows(today, filt)
    by_unit: dict[int, int] = {}
    for row in rows:
        for u in row.task.lead_units:
            by_unit[u.id] = by_unit.get(u.id, 0) + 1
    plans = list_plans()
    return render_template("bureau/overdue.html", rows=rows, roots=roots, units=_units(), filt=filt, today=today,
                           args=request.args, form=UrgeForm(), by_unit=by_unit, plans=plans,
                           multi_plan=len(plans) > 1, unit_roles=UNIT_ROLES)


@bp.route("/overdue/urge/confirm")
@roles_required(*SUPERVISING)
def urge_confirm():
    """The step before a bulk urge: which measures, which addresses; nothing is sent from here."""
    today = request_today()
    unit_id = parse_id(request.args.get("unit"), field="unit", label="催办单位", required=True)
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound("未找到该单位")
    rows, _roots = overdue_rows(today, OverdueFilter(unit_id=unit.id, role="lead"))
    back = _back_arg(url_for("bureau.overdue", unit=unit.id))
    return render_template("bureau/urge_confirm.html", unit=unit, rows=rows, today=today, form=UrgeForm(),
                           note=(request.args.get("note") or "")[:500], back=back, args=request.args)


@bp.route("/overdue/export.xlsx")
@roles_required(*READERS)
@conditional_page
def overdue_export():
    today = request_today()
    filt = parse_overdue_filter(request.args)
    rows, roots = overdue_rows(today, filt)
    note = overdue_filter_note(filt, roots)
    data = overdue_workbook(rows, today, note)
    safe = "".join("-" if ch in '\\/:*?"<>|' else ch for ch in note)[:60]
    filename = f"逾期清单-{safe + '-' if safe else ''}{today.isoformat()}.xlsx"
    ascii_name = f"overdue-{'filtered-' if note else ''}{today.isoformat()}.xlsx"
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": content_disposition(filename, ascii_name)})


def overdue_filter_note(filt, roots) -> str:
    """The overdue filter in words, for the export's title and file name."""
    parts = []
    if filt.plan_id:
        plan = db.session.get(Plan, filt.plan_id)
        if plan is not None:
            parts.append(f"计划 {plan.title[:20]}")
    if filt.unit_id:
        unit = db.session.get(Unit, filt.unit_id)
        if unit is not None:
            parts.append(f"单位 {unit.short_name}" + (f"（仅{UNIT_ROLES[filt.role]}）" if filt.role else ""))
    if filt.root_id:
        root = next((r for r in roots if r.id == filt.root_id), None)
        if root is not None:
            parts.append(f"一级任务 {root.code}")
    if filt.min_days:
        parts.append(f"逾期 {filt.min_days} 天以上")
    return "，".join(parts)


def _back(default: str) -> str:
    return _safe_local(request.form.get("next") or "", default)


def _back_arg(default: str) -> str:
    return _safe_local(request.args.get("next") or "", default)


def _safe_local(target: str, default: str) -> str:
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


@bp.route("/overdue/urge", methods=["POST"])
@roles_required(*SUPERVISING)
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
    except Invalid as exc:
        flash(exc.message, "danger")
        return redirect(back)
    if unit_id and request.form.get("confirmed") != "1":
        # A bulk urge always passes the confirmation page first.
        return redirect(url_for("bureau.urge_confirm", unit=unit_id, note=form.note.data or "", next=back))
    try:
        today = write_today()
        result = urge(actor(), today, task_id=task_id, unit_id=unit_id, note=form.note.data or "")
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(back)
    if result.units:
        flash(f"催办邮件已加入发送队列：{'、'.join(result.units)}（{result.tasks}项任务），发送结果见发件箱；"
              f"催办已记入任务历史。", "success")
    if result.duplicates:
        flash(f"今日已向 {'、'.join(result.duplicates)} 催办过，未重复发送。", "info")
    return redirect(back)


@bp.route("/missing")
@roles_required(*READERS)
@conditional_page
def missing():
    today = request_today()
    period = parse_period(request.args.get("period"), today)
    unit_id = parse_id(request.args.get("unit"), field="unit", label="单位编号")
    groups = missing_reports(period, unit_id)
    current = report_period(today)
    due_day = int(current_app.config["REPORT_DUE_DAY"])
    not_yet_due = period == current and today.day <= due_day
    return render_template("bureau/missing.html", groups=groups, period=period, units=_units(), unit_id=unit_id,
                           today=today, not_yet_due=not_yet_due, due_day=due_day,
                           total=sum(len(g.measures) for g in groups), form=UrgeForm())
