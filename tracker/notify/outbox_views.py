"""The outbox page: queued, sent and failed emails; resend a failed one."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from ..errors import Invalid
from ..extensions import db
from ..models import Notification
from ..rules.roles import SUPERVISING
from ..web.access import roles_required
from ..web.request import actor
from .outbox import KIND_LABELS, STATE_LABELS, list_notifications, parse_outbox_filter, resend
from .outbox_labels import rule_label
from .webhooks import CHANNEL_LABELS

bp = Blueprint("outbox", __name__)

bp.add_app_template_global(rule_label, "rule_label")



class EmptyForm(FlaskForm):
    """CSRF-protected button."""


@bp.route("/outbox")
@roles_required(*SUPERVISING)
def index():
    filt = parse_outbox_filter(request.args)
    rows, counts = list_notifications(filt)
    return render_template("outbox/index.html", rows=rows, counts=counts, filt=filt, form=EmptyForm(),
                           STATE_LABELS=STATE_LABELS, KIND_LABELS=KIND_LABELS,
                           CHANNEL_LABELS=CHANNEL_LABELS)


@bp.route("/outbox/<int:notification_id>")
@roles_required(*SUPERVISING)
def detail(notification_id: int):
    row = db.session.get(Notification, notification_id)
    if row is None:
        abort(404)
    return render_template("outbox/detail.html", row=row, form=EmptyForm(), STATE_LABELS=STATE_LABELS,
                           KIND_LABELS=KIND_LABELS, CHANNEL_LABELS=CHANNEL_LABELS)


@bp.route("/outbox/<int:notification_id>/resend", methods=["POST"])
@roles_required(*SUPERVISING)
def resend_post(notification_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        row = resend(actor(), notification_id)
    except Invalid as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("outbox.index", state="failed"))
    flash(f"已重新加入发送队列：{row.subject}", "success")
    return redirect(url_for("outbox.index", state="failed"))
