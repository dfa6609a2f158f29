from __future__ import annotations

from flask import render_template, request

from ..services.errors import NotFound
from ..services.tasks import get_plan, load_plan_view
from ..web import actor, light_rules, request_today
from . import bp


@bp.route("/")
def index():
    today = request_today()
    raw = request.args.get("plan", "")
    try:
        plan = get_plan(int(raw) if raw.isdigit() else None)
    except NotFound:
        return render_template("dashboard/empty.html")
    view = load_plan_view(plan, actor(), today, light_rules())
    roots = [t for t in view.tasks if t.parent_id is None and t.id in view.visible]
    mine = view.own if view.own or not actor().can_read_all else None
    measures = [t for t in view.tasks if t.is_leaf and (mine is None or t.id in mine)]
    counts = {light: 0 for light in ("red", "yellow", "green", "done")}
    for m in measures:
        counts[view.states[m.id].light] += 1
    percent = sum(view.states[m.id].percent for m in measures) / len(measures) if measures else 0
    return render_template("dashboard/index.html", plan=plan, view=view, roots=roots, counts=counts,
                           total=len(measures), percent=percent, today=today)
