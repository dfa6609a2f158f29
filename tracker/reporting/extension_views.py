"""Extension pages: the request form and the direct change on the task page, the supervisors' queue."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from ..errors import Conflict, Invalid
from ..rules.roles import SUPERVISING
from ..web.access import roles_required
from ..web.request import actor, apply_errors, write_today
from . import extensions as service
from .forms import DecisionForm, ExtensionForm

bp = Blueprint("extensions", __name__)


def _task_page(task_id: int, **kwargs):
    from .task_views import _task_page as render_task

    return render_task(task_id, **kwargs)


@bp.post("/tasks/<int:task_id>/extensions")
def request_form(task_id: int):
    form = ExtensionForm()
    form.validate()  # CSRF app-wide; values checked by the service
    try:
        ext = service.request_extension(task_id, actor(), form.service_data(), write_today())
    except Invalid as exc:
        return _task_page(task_id, ext_form=form, errors=apply_errors(form, exc.errors, flash_rest=False), status=422)
    except Conflict as exc:
        form.version.data = str(exc.changes.get("version", ""))
        return _task_page(task_id, ext_form=form, conflict=exc, status=409)
    flash(("已提交逾期延期申请" if ext.late else "已提交延期申请") + "，等待区司法局审批。", "success")
    return redirect(url_for("tasks.detail", task_id=task_id))


@bp.post("/tasks/<int:task_id>/deadline")
def deadline_form(task_id: int):
    form = ExtensionForm()
    form.validate()
    try:
        service.set_deadline(task_id, actor(), form.service_data(), write_today())
    except Invalid as exc:
        return _task_page(task_id, deadline_form=form, errors=apply_errors(form, exc.errors, flash_rest=False), status=422)
    except Conflict as exc:
        form.version.data = str(exc.changes.get("version", ""))
        return _task_page(task_id, deadline_form=form, conflict=exc, status=409)
    flash("完成时限已调整，责任单位将收到通知。", "success")
    return redirect(url_for("tasks.detail", task_id=task_id))


@bp.route("/extensions")
@roles_required(*SUPERVISING)
def queue():
    pending = service.list_extensions(actor(), service.PENDING)
    recent = [e for e in service.list_extensions(actor(), limit=60) if e.state != service.PENDING][:30]
    return render_template("reporting/extensions.html", pending=pending, recent=recent,
                           labels=service.STATE_LABELS)


@bp.post("/extensions/<int:ext_id>/decision")
@roles_required(*SUPERVISING)
def decide(ext_id: int):
    form = DecisionForm()
    form.validate()
    ext = service.get_extension(ext_id)
    try:
        service.decide_extension(ext_id, actor(), form.service_data(), write_today())
    except Invalid as exc:
        errors = apply_errors(form, exc.errors, flash_rest=False) + [m for m in form.comment.errors]
        if form.back.data == "list":
            for message in errors:
                flash(message, "danger")
            return redirect(url_for("extensions.queue"))
        return _task_page(ext.task_id, errors=errors, status=422)
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(url_for("extensions.queue"))
    flash("已批准延期，新的完成时限即时生效。" if form.decision.data == "approve" else "已驳回延期申请，完成时限不变。",
          "success")
    if form.back.data == "list":
        return redirect(url_for("extensions.queue"))
    return redirect(url_for("tasks.detail", task_id=ext.task_id))
