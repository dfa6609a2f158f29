"""Change one's own password."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..services.admin import LoginThrottled, change_own_password
from ..services.errors import Invalid
from ..web import actor
from . import bp
from .forms import PasswordChangeForm


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            change_own_password(actor(), form.current.data or "", form.new.data or "", form.confirm.data or "",
                                ip=request.remote_addr or "")
        except LoginThrottled as exc:
            flash(exc.message, "danger")
            return render_template("account/password.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        except Invalid as exc:
            for name, messages in exc.errors.items():
                if name in form._fields:
                    form[name].errors = list(form[name].errors or []) + list(messages)
                else:
                    for message in messages:
                        flash(message, "danger")
            status = 422
        else:
            flash("密码已修改。", "success")
            return redirect(url_for("dashboard.index"))
    elif form.is_submitted():
        status = 422
    return render_template("account/password.html", form=form), status
