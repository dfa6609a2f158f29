"""The dashboard (总览)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import Invalid, NotFound
from ..notify.todo import todo_for
from ..plans.access import get_plan, list_plans
from ..plans.view import load_plan_view
from ..rules.roles import UNIT
from ..validation import parse_id
from ..web.conditional import conditional_page
from ..web.request import actor, app_today, light_rules, request_today
from .dashboard import SORT_KEYS, bar_chart, completion_series, line_chart, overview, unit_ranking

bp = Blueprint("dashboard", __name__)

SORT_LABELS = {
    "name": "单位",
    "measures": "牵头举措",
    "done": "已完成",
    "overdue": "逾期",
    "due_soon": "临期",
    "rate": "完成率",
    "missing": "本月未报送",
}


def _request_todo(user, today, rules):
    """The user's to-do list, computed once per request (the ETag, the list and the header badge share it)."""
    if not has_request_context():
        return todo_for(user, today, rules)
    key = (user.id, today, request._get_current_object())  # g may outlive one request (tests hold a context)
    if g.get("_todo_key") != key:
        g._todo, g._todo_key = todo_for(user, today, rules), key
    return g._todo


def _todo_parts():
    """The to-do list the dashboard shows (read marks and failed messages are not plan data)."""
    user = actor()
    if not (user.is_supervisor or user.role == UNIT):
        return ()
    return tuple((item.key, item.read) for item in _request_todo(user, request_today(), light_rules()).items)


@bp.route("/")
@conditional_page(parts=_todo_parts)
def index():
    today = request_today()
    plan_id = parse_id(request.args.get("plan"), field="plan", label="计划编号")
    try:
        plan = get_plan(plan_id)
    except NotFound:
        if plan_id is not None:
            raise
        return render_template("dashboard/empty.html")
    user = actor()
    rules = light_rules()
    view = load_plan_view(plan, user, today, rules)
    unit_id = None if user.can_read_all else (user.unit_id or -1)
    sort = request.args.get("sort", "overdue")
    sort = sort if sort in SORT_KEYS else "overdue"
    descending = request.args.get("dir", "desc" if sort != "name" else "asc") != "asc"

    def build():
        ov = overview(view, today, rules, unit_id=unit_id)
        ranking = unit_ranking(view, today, rules, only_unit_id=unit_id, sort=sort, descending=descending)
        series = completion_series(plan.id, today, plan.start_date, unit_id=unit_id)
        by_overdue = sorted(ranking, key=lambda r: (-r.overdue, r.unit.id))
        return ov, ranking, line_chart(series, ov.total), bar_chart([(r.name, r.overdue) for r in by_overdue])

    # Computed once per data revision, day, reader and sort (cache/readcache.py).
    ov, ranking, line, bars = view.derived("dashboard", (unit_id, sort, descending), build)
    keep = {k: request.args[k] for k in ("plan", "today") if request.args.get(k, "").strip()}
    return render_template(
        "dashboard/index.html", plan=plan, plans=list_plans(), ov=ov, ranking=ranking, today=today,
        sort=sort, descending=descending, sort_labels=SORT_LABELS, keep=keep,
        line=line, bars=bars, due_day=light_rules().report_due_day,
        own_unit=None if user.can_read_all else user.unit,
        todo=_request_todo(user, today, rules) if user.is_supervisor or user.role == UNIT else None,
    )


@bp.post("/todo/read")
def todo_read():
    """Mark one to-do item (or several: ``key`` repeated) read; back to the landing page."""
    from ..notify.todo import mark_read

    mark_read(actor(), request.form.getlist("key"))
    flash("已标记为已读。", "success")
    return redirect(url_for("dashboard.index") + "#todo")


@bp.app_context_processor
def _todo_badge():
    return {"todo_badge": todo_badge}


def todo_badge():
    """Unread to-do items of the logged-in user for the nav badge (None: no badge for this role)."""
    if not current_user.is_authenticated or not (current_user.is_supervisor or current_user.role == UNIT):
        return None
    try:
        try:
            today = request_today()
        except Invalid:
            today = app_today()
        return _request_todo(current_user._get_current_object(), today, light_rules()).unread
    except Exception:  # an error page must render even when the database does not answer
        current_app.logger.exception("to-do badge not computed")
        return None
