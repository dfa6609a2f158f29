from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from ..errors import Conflict, Invalid
from ..extensions import csrf
from ..models import Unit
from ..plans.tasks import filter_view, get_plan, list_plans, load_plan_view, parse_filter, task_dict
from ..validation import MAX_JSON_BYTES, parse_id, parse_json_object
from ..web.errors import error_response
from ..web.request import actor, light_rules, request_today, write_today
from . import bp


@bp.before_request
def _authenticate():
    if not current_user.is_authenticated:
        return error_response(401, "需要登录或有效的访问令牌（Authorization: Bearer …）")
    # A browser session posting to the API must carry the CSRF token (header X-CSRFToken);
    # bearer-token clients are not exposed to CSRF.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.headers.get("Authorization"):
        csrf.protect()
    return None


@bp.get("/plans")
def plans():
    return jsonify([
        {"id": p.id, "title": p.title, "issuer": p.issuer,
         "start_date": p.start_date.isoformat() if p.start_date else None,
         "end_date": p.end_date.isoformat() if p.end_date else None}
        for p in list_plans()
    ])


@bp.get("/units")
def units():
    from sqlalchemy import select

    from ..extensions import db

    rows = db.session.execute(select(Unit).order_by(Unit.id)).scalars()
    show_emails = current_user.can_read_all
    return jsonify([
        {"id": u.id, "full_name": u.full_name, "short_name": u.short_name, "kind": u.kind, "active": u.active,
         **({"emails": u.email_list} if show_emails else {})}
        for u in rows
    ])


def _tasks_for_request(only_overdue: bool = False):
    today = request_today()
    plan_id = parse_id(request.args.get("plan"), field="plan", label="计划编号 plan")
    filt = parse_filter(request.args, labels_ok=False)
    plans = [get_plan(plan_id)] if plan_id is not None else list_plans()
    result = []
    for plan in plans:
        view = load_plan_view(plan, actor(), today, light_rules())
        for task in filter_view(view, filt):
            state = view.states[task.id]
            if only_overdue and not (task.is_leaf and state.light == "red"):
                continue
            result.append(task_dict(task, state, today, light_rules()))
    return result


@bp.get("/tasks")
def tasks():
    return jsonify(_tasks_for_request())


@bp.get("/overdue")
def overdue():
    return jsonify(_tasks_for_request(only_overdue=True))


@bp.get("/assessment")
def assessment():
    from ..documents.service import assess_period, assessment_json, load_plan_data, resolve

    if not actor().can_read_all:
        return error_response(403, "考核结果仅供督办人员和领导查看")
    plan, period = resolve(parse_id(request.args.get("plan"), field="plan", label="计划编号 plan"),
                           request.args.get("period"))
    result = assess_period(load_plan_data(plan), period, request_today())
    return jsonify({"plan_id": plan.id, **assessment_json(result)})


# --- Writes: progress reports and reviews (same services as the web forms) --------

def _json_body() -> dict:
    """The request's JSON object within size and depth limits; Invalid (422) otherwise."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise Invalid({"_": [f"请求体过大（上限 {MAX_JSON_BYTES // 1024} KB）"]})
    return parse_json_object(request.get_data(cache=True))


def _task_answer(task, status: int, today):
    from ..rules.lights import leaf_state

    return jsonify(task_dict(task, leaf_state(task, today, light_rules()), today, light_rules())), status


@bp.post("/tasks/<int:task_id>/updates")
def task_updates(task_id: int):
    from ..plans.tasks import get_task_for
    from ..reporting.progress import record_update

    get_task_for(actor(), task_id)  # 404 / 403 before looking at the body
    today = write_today()  # a bad ?today= is refused before anything is written; a good one is ignored
    task = record_update(task_id, actor(), _json_body(), today)
    return _task_answer(task, 201, today)


@bp.post("/tasks/<int:task_id>/review")
def task_review(task_id: int):
    from ..plans.tasks import get_task_for
    from ..reporting.review import review_task

    get_task_for(actor(), task_id)
    if not actor().is_supervisor:
        return error_response(403, "只有督办人员可以审核")
    today = write_today()
    task = review_task(task_id, actor(), _json_body(), today)
    return _task_answer(task, 201, today)


# --- Deadline extensions (SPEC 6.1) and the to-do list (SPEC 6.2) ---------------------

@bp.post("/tasks/<int:task_id>/extensions")
def task_extensions(task_id: int):
    from ..plans.tasks import get_task_for
    from ..reporting.extensions import extension_dict, request_extension

    get_task_for(actor(), task_id)  # 404 / 403 before looking at the body
    ext = request_extension(task_id, actor(), _json_body(), write_today())
    return jsonify(extension_dict(ext)), 201


@bp.post("/extensions/<int:ext_id>/decision")
def extension_decision(ext_id: int):
    from ..reporting.extensions import decide_extension, extension_dict, get_extension

    get_extension(ext_id)
    if not actor().is_supervisor:
        return error_response(403, "只有督办人员可以审批延期申请")
    ext = decide_extension(ext_id, actor(), _json_body(), write_today())
    return jsonify(extension_dict(ext)), 200


@bp.get("/extensions")
def extensions():
    from ..reporting.extensions import extension_dict, list_extensions, parse_state

    state = parse_state(request.args.get("state"))
    return jsonify([extension_dict(e) for e in list_extensions(actor(), state)])


@bp.get("/todo")
def todo():
    from ..notify.todo import todo_for

    result = todo_for(actor(), request_today(), light_rules())
    return jsonify({"items": [item.as_dict() for item in result.items], "unread": result.unread})


@bp.post("/todo/read")
def todo_read():
    from ..notify.todo import mark_read

    data = _json_body()
    keys = data.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise Invalid({"keys": ["keys 应为待办事项 key 的列表"]})
    marked = mark_read(actor(), keys)
    return jsonify({"marked": marked}), 200


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict):
    from ..extensions import db

    db.session.rollback()
    body = {"error": exc.message, "status": 409, "current": exc.changes,
            "version": exc.changes.get("version")}
    return jsonify(body), 409
