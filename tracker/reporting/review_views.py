"""The bureau's review of completion claims (待审核): approve, return, reopen."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from ..errors import Conflict, Invalid
from ..rules.roles import SUPERVISING
from ..rules.status import APPROVE, RETURN
from ..web.access import roles_required
from ..web.request import actor, apply_errors, request_today, write_today
from .review import latest_reports, parse_review, pending_claims, review_task
from .task_forms import ReviewForm
from .task_views import _task_page

bp = Blueprint("review", __name__)

MESSAGES = {APPROVE: "已审核通过，该举措已销号。", RETURN: "已退回，责任单位将在任务页面看到审核意见。"}


@bp.route("/review")
@roles_required(*SUPERVISING)
def pending():
    tasks = pending_claims()
    reports = latest_reports([t.id for t in tasks])
    return render_template("review/pending.html", tasks=tasks, reports=reports, today=request_today(),
                           form=ReviewForm(formdata=None))


@bp.post("/review/<int:task_id>")
@roles_required(*SUPERVISING)
def decide(task_id: int):
    form = ReviewForm()
    form.validate()  # CSRF is checked app-wide; values are validated by the service
    try:
        inp = parse_review(form.service_data(), version_required=True)
        review_task(task_id, actor(), inp, write_today())
    except Invalid as exc:
        general = apply_errors(form, exc.errors, flash_rest=False)
        return _task_page(task_id, review_form=form, errors=general, status=422)
    except Conflict as exc:
        form.version.data = str(exc.changes.get("version", ""))
        return _task_page(task_id, review_form=form, conflict=exc, status=409)
    flash(MESSAGES.get(form.decision.data, "已重新打开，该举措回到“推进中”。"), "success")
    if form.back.data == "list":
        return redirect(url_for("review.pending"))
    return redirect(url_for("tasks.detail", task_id=task_id))
