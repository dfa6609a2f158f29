"""My tasks (本单位任务), the task page, progress reports and evidence downloads."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from wtforms.fields.choices import SelectChoice

from ..errors import Conflict, Invalid
from ..plans.access import ancestors, get_task_for, unit_role
from ..plans.periods import period_cards
from ..rules.deadlines import DeadlineError, read_deadline
from ..rules.lights import leaf_state
from ..rules.roles import UNIT
from ..rules.status import DONE, PENDING_REVIEW, status_label
from ..web.conditional import conditional_page
from ..web.request import actor, apply_errors, light_rules, request_today, write_today
from .attachments import PREVIEWABLE, get_attachment_for
from .evidence_store import open_evidence
from .history import task_history
from .mine import QUICK_FILTERS, my_tasks, parse_quick
from .progress import can_claim, can_report, record_update
from .task_forms import ProgressForm, ReviewForm

bp = Blueprint("tasks", __name__)
bp.add_app_template_global(PREVIEWABLE, "previewable")  # evidence that opens in the browser


@bp.route("/my-tasks")
@conditional_page
def mine():
    user = actor()
    if user.role != UNIT:
        return redirect(url_for("ledger.index"))
    if not user.unit_id:
        abort(403)
    today = request_today()
    rules = light_rules()
    quick = parse_quick(request.args.get("filter", ""))
    counts: dict[str, int] = {}
    groups = my_tasks(user, today, rules, quick, counts)
    return render_template("tasks/mine.html", groups=groups, today=today, quick=quick,
                           quick_filters=QUICK_FILTERS, rules=rules, counts=counts)


def deadline_reading(text: str):
    """Start and milestones of the deadline text, for display (None when it does not parse)."""
    try:
        return read_deadline(text) if text else None
    except DeadlineError:
        return None


def _task_page(task_id: int, form: ProgressForm | None = None, review_form: ReviewForm | None = None,
               *, errors: list[str] | None = None, conflict: Conflict | None = None, status: int = 200,
               ext_form=None, deadline_form=None):
    user = actor()
    today = request_today()
    task = get_task_for(user, task_id)
    state = leaf_state(task, today, light_rules()) if task.is_leaf else None
    children = []
    if not task.is_leaf:
        from ..plans.view import load_plan_view

        view = load_plan_view(task.plan, user, today, light_rules())
        state = view.states[task.id]
        children = [(c, view.states[c.id]) for c in view.tasks if c.parent_id == task.id and c.id in view.visible]
    reportable = task.is_leaf and task.status not in (DONE, PENDING_REVIEW) and can_report(user, task)
    if form is not None and not reportable:
        # The measure can no longer take a report (claimed, done): show the errors on top.
        errors = list(errors or []) + [m for f in form for m in (f.errors or ()) if isinstance(m, str)]
    if form is None and reportable:
        form = ProgressForm(formdata=None, status=task.status, progress=str(task.progress), version=task.version)
    if review_form is None and user.is_supervisor and task.is_leaf and task.status in (PENDING_REVIEW, DONE):
        review_form = ReviewForm(formdata=None, version=task.version, back="task")
    if form is not None and not can_claim(user, task):
        form.status.choices = [c for c in form.status.choices if c.value != PENDING_REVIEW]
    if form is not None:
        # The words the page shows elsewhere: 持续推进 for a 长期坚持 measure, 待审核 as a claim.
        form.status.choices = [SelectChoice(c.value, status_label(c.value, task.is_ongoing)
                                            + ("（申请销号）" if c.value == PENDING_REVIEW else ""))
                               for c in form.status.choices]
    history = task_history(task) if task.is_leaf else []
    ext = _extension_context(user, task, ext_form, deadline_form)
    return render_template(
        "tasks/detail.html", task=task, state=state, chain=ancestors(task), children=children,
        history=history, form=form if reportable else None, review_form=review_form,
        may_claim=can_claim(user, task), my_role=unit_role(task, user.unit_id) if user.role == UNIT else None,
        errors=errors or [], conflict=conflict, today=today, **ext,
        period_cards=period_cards(task, today, light_rules()) if task.is_leaf else [],
        reading=deadline_reading(task.deadline_text),
    ), status


def _extension_context(user, task, ext_form, deadline_form) -> dict:
    """The task page's deadline-extension part: requests so far and the forms the user may use."""
    from . import extensions as ext_service
    from .forms import ExtensionForm

    if not task.is_leaf:
        return {"extensions": [], "ext_form": None, "deadline_form": None, "ext_labels": ext_service.STATE_LABELS}
    extensions = ext_service.list_extensions(user, task_id=task.id)
    pending = any(e.state == ext_service.PENDING for e in extensions)
    open_dated = task.status != DONE and task.effective_deadline is not None
    if ext_form is None and open_dated and not pending and ext_service.can_request(user, task):
        ext_form = ExtensionForm(formdata=None, version=task.version)
    if deadline_form is None and user.is_supervisor and task.status != DONE and not pending:
        deadline_form = ExtensionForm(formdata=None, version=task.version)
    if deadline_form is not None:
        deadline_form.reason.label.text = "调整理由"
    return {"extensions": extensions, "ext_form": ext_form, "deadline_form": deadline_form,
            "ext_labels": ext_service.STATE_LABELS, "ext_pending": pending}


@bp.route("/tasks/<int:task_id>")
def detail(task_id: int):
    return _task_page(task_id)


@bp.post("/tasks/<int:task_id>/updates")
def report(task_id: int):
    form = ProgressForm()
    form.validate()  # CSRF is checked app-wide; values are validated by the service
    files = [f for f in request.files.getlist("files") if f and f.filename]
    try:
        before = get_task_for(actor(), task_id).progress
        task = record_update(task_id, actor(), form.service_data(), write_today(), files)
    except Invalid as exc:
        general = apply_errors(form, exc.errors, flash_rest=False)
        summary = [f"{getattr(form, name).label.text}：{message}" for name in form.VISIBLE
                   for message in (getattr(form, name).errors or ()) if isinstance(message, str)]
        if files or "files" in exc.errors:
            summary.append("所选佐证材料尚未保存：浏览器出于安全原因不能保留已选择的文件，请修正后重新选择文件"
                           "（其他已填写的内容已保留）。")
        return _task_page(task_id, form, errors=general + summary, status=422)
    except Conflict as exc:
        # Keep what the user typed; the form now carries the current version, so a
        # second submit (after reading what changed) is a deliberate decision.
        form.version.data = str(exc.changes.get("version", ""))
        return _task_page(task_id, form, conflict=exc, status=409)
    flash("进展已报送。" if form.status.data != PENDING_REVIEW else "已申请销号，等待区司法局审核。", "success")
    if task.progress < before:
        flash(f"注意：完成进度由 {before}% 降为 {task.progress}%。"
              + ("已记入历史。" if (form.problems.data or "").strip() else "如有原因，请在下次报送的“存在问题”中说明。"),
              "warning")
    return redirect(url_for("tasks.detail", task_id=task_id))


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    """Download an evidence file; ``?inline=1`` shows images and PDFs in the browser.

    Only types the browser renders without running our origin's scripts are shown
    inline, and the response carries a sandboxing CSP; everything else downloads.
    """
    att = get_attachment_for(actor(), attachment_id)
    source = open_evidence(att)  # a path (files store) or the bytes (database store)
    inline = request.args.get("inline") == "1" and att.content_type in PREVIEWABLE
    response = send_file(source, mimetype=att.content_type, as_attachment=not inline,
                         download_name=att.original_name, max_age=0, etag=att.sha256)
    if inline:
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'"
        response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.errorhandler(413)
def _too_large(_exc):
    from ..web.errors import error_response

    limit = current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
    total = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    return error_response(413, f"提交的内容过大：每个佐证材料不超过 {limit} MB，一次提交合计不超过 {total} MB，"
                               f"每段文字不超过 64 KB。请返回上一页减少附件后重新提交。")
