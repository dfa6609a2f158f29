"""The ledger (工作台账) pages."""
from __future__ import annotations

from dataclasses import astuple
from io import BytesIO

from flask import Blueprint, render_template, request, send_file, url_for
from markupsafe import Markup
from sqlalchemy import select

from ..extensions import db
from ..models import Unit
from ..rules.lights import LIGHT_LABELS
from ..rules.status import STATUS_LABELS
from ..validation import parse_id
from ..web.conditional import conditional_page
from ..web.request import actor, light_rules, request_today
from .access import get_plan, list_plans, plan_roots
from .excel_export import content_disposition, export_filename, ledger_xlsx_bytes, parent_head
from .ledger import build_ledger
from .ledger_render import measure_cells
from .service import level_name
from .sorting import LEDGER_SORTS, parse_sort, sort_measures
from .view import filter_with_context, load_plan_view, parse_filter

bp = Blueprint("ledger", __name__)
bp.add_app_template_filter(level_name, "level_name")  # 一级任务 / 二级任务 / 具体举措
bp.add_app_template_global(parent_head, "task_head")  # a measure's first- and second-level task

# Query-string keys that make up the ledger's filter state (kept in the URL).
FILTER_KEYS = ("plan", "task", "unit", "status", "light", "q", "extended", "today", "sort", "dir")


def _plan_arg():
    return parse_id(request.args.get("plan"), field="plan", label="计划编号")


def _load():
    """The plan, its view for the current user, the filter and the ledger table (cached per revision)."""
    today = request_today()
    plan = get_plan(_plan_arg())
    filt = parse_filter(request.args)
    order = parse_sort(request.args, LEDGER_SORTS)
    view = load_plan_view(plan, actor(), today, light_rules(), root_id=filt.root_id)
    table = view.derived("ledger_table", (astuple(filt), order),
                         lambda: build_ledger(view, sort_measures(filter_with_context(view, filt), view.states, order)))
    return today, plan, view, filt, table, (astuple(filt), order)


def filter_args() -> dict[str, str]:
    return {k: request.args[k] for k in FILTER_KEYS if request.args.get(k, "").strip()}


def filter_note(view, filt) -> str:
    """The filter in words, for the export's title row."""
    parts = []
    if filt.root_id:
        root = next((t for t in view.tasks if t.id == filt.root_id), None)
        if root is not None:
            parts.append(f"一级任务 {root.code}")
    if filt.unit_id:
        parts.append(f"单位 {request.args.get('unit', '').strip()}")
    if filt.status:
        parts.append(f"状态 {STATUS_LABELS.get(filt.status, filt.status)}")
    if filt.light:
        parts.append(f"预警 {LIGHT_LABELS.get(filt.light, filt.light)}")
    if filt.keyword:
        parts.append(f"关键词“{filt.keyword}”")
    if filt.extended:
        parts.append("已延期")
    return "，".join(parts)


@bp.route("/ledger")
@conditional_page
def index():
    today, plan, view, filt, table, key = _load()
    user = actor()
    roots = (plan_roots(plan.id) if user.can_read_all
             else [t for t in view.tasks if t.parent_id is None and t.id in view.visible])
    units = list(db.session.execute(select(Unit).where(Unit.active.is_(True)).order_by(Unit.kind, Unit.id)).scalars())
    current_unit = request.args.get("unit", "").strip()
    # One URL prefix instead of a url_for per row (10,000-row ledgers).
    task_href = url_for("tasks.detail", task_id=0)[:-1]
    rows_html = view.derived("ledger_rows", (key, task_href), lambda: Markup(render_template(
        "ledger/_rows.html", table=table, task_href=task_href, measure_cells=measure_cells)))
    return render_template(
        "ledger/index.html", plan=plan, plans=list_plans(), view=view, table=table, filt=filt,
        roots=roots, today=today, args=request.args, export_args=filter_args(), units=units,
        current_unit=current_unit, unit_names={n for u in units for n in (u.short_name, u.full_name)},
        rows_html=rows_html, order=parse_sort(request.args, LEDGER_SORTS), note=filter_note(view, filt),
    )


@bp.route("/ledger/export.xlsx")
@conditional_page
def export():
    """Exactly what the ledger shows for the same query string, as .xlsx."""
    today, plan, view, filt, table, _key = _load()
    note = filter_note(view, filt)
    data = ledger_xlsx_bytes(plan, table, today, filter_note=note)
    response = send_file(BytesIO(data), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         max_age=0)
    ascii_name = f"ledger-{'filtered-' if note else ''}{today.isoformat()}.xlsx"
    response.headers["Content-Disposition"] = content_disposition(export_filename(plan, today, note), ascii_name)
    return response
