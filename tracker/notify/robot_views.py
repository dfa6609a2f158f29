"""/units/<id>/robots (admins edit; the unit's liaison views and tests) and /bureau/robots (admins)."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from ..clock import local_today
from ..errors import DomainError, Invalid
from ..extensions import db
from ..models import Unit
from ..rules.roles import ADMIN, SUPERVISING, SUPERVISOR, UNIT
from ..web.access import roles_required
from ..web.request import actor, apply_errors
from . import channels as svc
from .robot_forms import ButtonForm, RobotForm
from .webhooks import KIND_LABELS, KINDS

bp = Blueprint("robots", __name__)

VIEWERS = (ADMIN, SUPERVISOR, UNIT)


def _unit(unit_id: Optional[int]) -> Optional[Unit]:
    """The unit (None: the bureau) if the current user may see its robots; 403/404 otherwise."""
    if unit_id is None:
        if current_user.role not in SUPERVISING:
            abort(403)
        return None
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        abort(404)
    if current_user.role == UNIT and current_user.unit_id != unit.id:
        abort(403)
    return unit


def _kind(kind: str) -> str:
    if kind not in KINDS:
        abort(404)
    return kind


def _page_url(unit: Optional[Unit]) -> str:
    return url_for("robots.unit_page", unit_id=unit.id) if unit else url_for("robots.bureau_page")


def _render(unit: Optional[Unit], forms: Optional[dict] = None, status: int = 200):
    hooks = svc.list_webhooks(unit.id if unit else None)
    forms = forms or {}
    for kind in KINDS:
        if kind not in forms:
            hook = hooks.get(kind)
            # The URL carries the robot's credential: never sent back, blank keeps it.
            data = {} if hook is None else {f"send_{r}": getattr(hook, f"send_{r}") for r in svc.RULES}
            forms[kind] = RobotForm(formdata=None, data=data, prefix=kind)
    views = {kind: svc.view(h) for kind, h in hooks.items()}
    can_edit = current_user.role == ADMIN
    return render_template("robots/settings.html", unit=unit, forms=forms, views=views, kinds=KINDS,
                           labels=KIND_LABELS, can_edit=can_edit, button=ButtonForm(),
                           can_test=svc.may_test(current_user, unit.id if unit else None)), status


@bp.route("/units/<int:unit_id>/robots")
@roles_required(*VIEWERS)
def unit_page(unit_id: int):
    return _render(_unit(unit_id))


@bp.route("/my-unit/robots")
@roles_required(UNIT)
def mine():
    if current_user.unit_id is None:
        abort(404)
    return redirect(url_for("robots.unit_page", unit_id=current_user.unit_id))


@bp.route("/bureau/robots")
@roles_required(*SUPERVISING)
def bureau_page():
    return _render(None)


def _save(unit: Optional[Unit], kind: str):
    form = RobotForm(prefix=kind)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _render(unit, {kind: form}, 422)
    rules = {r: bool(getattr(form, f"send_{r}").data) for r in svc.RULES}
    try:
        svc.save_webhook(actor(), unit, kind, (form.url.data or "").strip() or None, form.secret.data or None,
                         rules)
    except Invalid as exc:
        db.session.rollback()
        apply_errors(form, exc.errors)
        return _render(unit, {kind: form}, 422)
    flash(f"已保存{KIND_LABELS[kind]}机器人设置。", "success")
    return redirect(_page_url(unit))


def _delete(unit: Optional[Unit], kind: str):
    if not ButtonForm().validate_on_submit():
        abort(400)
    if svc.remove_webhook(actor(), unit, kind):
        flash(f"已删除{KIND_LABELS[kind]}机器人。", "success")
    return redirect(_page_url(unit))


def _test(unit: Optional[Unit], kind: str):
    if not ButtonForm().validate_on_submit():
        abort(400)
    today = local_today(current_app.config["TIMEZONE"])
    try:
        outcome = svc.send_check(actor(), unit, kind, today)
    except DomainError as exc:
        db.session.rollback()
        if isinstance(exc, Invalid):
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "danger")
        else:
            flash(exc.message, "danger")
        return redirect(_page_url(unit))
    flash(outcome, "success")
    return redirect(_page_url(unit))


@bp.route("/units/<int:unit_id>/robots/<kind>", methods=["POST"])
@roles_required(ADMIN)
def unit_save(unit_id: int, kind: str):
    return _save(_unit(unit_id), _kind(kind))


@bp.route("/units/<int:unit_id>/robots/<kind>/delete", methods=["POST"])
@roles_required(ADMIN)
def unit_delete(unit_id: int, kind: str):
    return _delete(_unit(unit_id), _kind(kind))


@bp.route("/units/<int:unit_id>/robots/<kind>/test", methods=["POST"])
@roles_required(ADMIN, UNIT)
def unit_test(unit_id: int, kind: str):
    return _test(_unit(unit_id), _kind(kind))


@bp.route("/bureau/robots/<kind>", methods=["POST"])
@roles_required(ADMIN)
def bureau_save(kind: str):
    return _save(None, _kind(kind))


@bp.route("/bureau/robots/<kind>/delete", methods=["POST"])
@roles_required(ADMIN)
def bureau_delete(kind: str):
    return _delete(None, _kind(kind))


@bp.route("/bureau/robots/<kind>/test", methods=["POST"])
@roles_required(ADMIN)
def bureau_test(kind: str):
    return _test(None, _kind(kind))
