from __future__ import annotations

from flask import render_template, request

from ..services.ledger import build_ledger
from ..services.tasks import filter_with_context, get_plan, list_plans, load_plan_view, parse_filter
from ..web import actor, light_rules, request_today
from . import bp


def _plan_arg():
    raw = request.args.get("plan", "").strip()
    if raw and not raw.isdigit():
        from ..services.errors import Invalid

        raise Invalid({"plan": ["计划编号无效"]})
    return int(raw) if raw else None


@bp.route("/ledger")
def index():
    today = request_today()
    plan = get_plan(_plan_arg())
    view = load_plan_view(plan, actor(), today, light_rules())
    filt = parse_filter(request.args)
    shown = filter_with_context(view, filt)
    table = build_ledger(view, shown)
    roots = [t for t in view.tasks if t.parent_id is None and t.id in view.visible]
    return render_template(
        "ledger/index.html", plan=plan, plans=list_plans(), view=view, table=table, filt=filt,
        roots=roots, today=today, args=request.args,
    )
