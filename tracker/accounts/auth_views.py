"""Authentication: login, logout, the login-everywhere rule and role checks."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from .. import audit
from ..extensions import db, login_manager
from ..web.access import require_login
from . import sessions
from .auth_forms import LoginForm
from .login import LoginThrottled, authenticate
from .users import user_for_token

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    """The user of a live server-side session (``accounts/sessions.py``); ended sessions load nobody."""
    return sessions.user_for(user_id, session.get(sessions.SESSION_KEY))


@login_manager.request_loader
def load_user_from_bearer(req):
    """``Authorization: Bearer <token>`` for the JSON API (no session is written)."""
    header = req.headers.get("Authorization", "")
    if not req.path.startswith("/api/") or not header.lower().startswith("bearer "):
        return None
    return user_for_token(header[7:].strip())


@bp.before_app_request
def _login_everywhere():
    return require_login()


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def client_ip() -> str:
    return request.remote_addr or ""


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.username.data.strip(), form.password.data, ip=client_ip())
        except LoginThrottled as exc:
            db.session.commit()
            flash(exc.message, "danger")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            db.session.commit()
            flash("用户名或密码错误。", "danger")
            return render_template("auth/login.html", form=form), 200
        key = sessions.start(user, client_ip())
        audit.record("login", user, ip=client_ip())
        db.session.commit()
        session.clear()  # nothing from before the login survives it (no session fixation)
        login_user(user)
        session[sessions.SESSION_KEY] = key
        return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """POST only, with the CSRF token (CSRFProtect answers 400 without it); ends the session row,
    so the old cookie is dead in every worker."""
    if current_user.is_authenticated:
        sessions.end(session.get(sessions.SESSION_KEY))
        audit.record("logout", current_user._get_current_object(), ip=client_ip())
        db.session.commit()
    logout_user()
    session.clear()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


