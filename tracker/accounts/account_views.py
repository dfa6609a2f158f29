"""One's own account: change the password, list / create / revoke API tokens."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import utcnow
from ..web.forms import EmptyForm
from ..web.request import actor
from . import tokens
from .account_forms import PasswordChangeForm, TokenCreateForm
from .admin import change_own_password
from .login import LoginThrottled
from .sessions import SESSION_KEY

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            change_own_password(actor(), form.current.data or "", form.new.data or "", form.confirm.data or "",
                                ip=request.remote_addr or "", keep_session=session.get(SESSION_KEY))
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
            flash("密码已修改；您在其他设备上的登录已退出，API 令牌已全部吊销。", "success")
            return redirect(url_for("dashboard.index"))
    elif form.is_submitted():
        status = 422
    return render_template("account/password.html", form=form), status


def _tokens_page(form, new_token: str = "", status: int = 200):
    user = actor()
    return render_template(
        "account/tokens.html", form=form, tokens=tokens.list_for(user), now=utcnow(), new_token=new_token,
        revoke_url=lambda t: url_for("account.token_revoke", token_id=t.id)), status


@bp.route("/tokens", methods=["GET", "POST"], endpoint="tokens")
def tokens_page():
    """One's own API tokens: list, create (optionally expiring); the new token is shown once."""
    form = TokenCreateForm()
    if request.method == "GET":
        return _tokens_page(form)
    if not form.validate_on_submit():
        return _tokens_page(form, status=422)
    try:
        token = tokens.create(actor(), actor(), expires_days=tokens.parse_expires_days(form.expires_days.data))
    except Invalid as exc:
        form.expires_days.errors = list(form.expires_days.errors or []) + exc.errors.get("expires_days", [])
        return _tokens_page(form, status=422)
    db.session.commit()
    return _tokens_page(TokenCreateForm(formdata=None), new_token=token, status=201)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def token_revoke(token_id: int):
    if EmptyForm().validate_on_submit():
        try:
            tokens.revoke(actor(), actor(), token_id)
        except NotFound:
            abort(404)
        db.session.commit()
        flash("令牌已吊销。", "success")
    return redirect(url_for("account.tokens"))
