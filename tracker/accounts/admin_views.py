"""Users (admin), units (admin edits, supervisor reads) and the audit log (admin, supervisor)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..audit import ACTION_LABELS, target_names
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import utcnow
from ..rules.roles import ADMIN, ROLE_LABELS, SUPERVISING
from ..validation import parse_int
from ..web.access import roles_required
from ..web.forms import EmptyForm
from ..web.request import actor, apply_errors
from . import admin as svc
from . import tokens
from .admin_forms import PasswordResetForm, UnitForm, UserCreateForm, UserEditForm
from .sessions import SESSION_KEY

bp = Blueprint("admin", __name__, url_prefix="/admin")




# --------------------------------------------------------------------------- users

@bp.route("/users")
@roles_required(ADMIN)
def users():
    return render_template("admin/users.html", users=svc.list_users(), role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_new():
    form = UserCreateForm()
    form.set_units(svc.all_units())
    status = 200
    if form.validate_on_submit():
        try:
            user = svc.admin_create_user(
                actor(), username=form.username.data or "", display_name=form.display_name.data or "",
                email=form.email.data or "", role=form.role.data or "", unit_id=form.unit.data,
                password=form.password.data or "")
        except Invalid as exc:
            apply_errors(form, exc.errors)
            status = 422
        else:
            flash(f"已创建用户 {user.username}。", "success")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 422
    return render_template("admin/user_new.html", form=form), status


def _edit_page(user, *, edit_form=None, reset_form=None, status=200):
    units = svc.all_units()
    if edit_form is None:
        edit_form = UserEditForm(formdata=None, data={
            "display_name": user.display_name, "email": user.email, "role": user.role,
            "unit": str(user.unit_id or "")})
    edit_form.set_units(units)
    reset_form = reset_form or PasswordResetForm(formdata=None)
    return render_template("admin/user_edit.html", user=user, form=edit_form, reset_form=reset_form,
                           role_labels=ROLE_LABELS, tokens=tokens.list_for(user), now=utcnow(),
                           revoke_url=lambda t: url_for("admin.user_token_revoke", user_id=user.id, token_id=t.id),
                           ), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN)
def user_edit(user_id: int):
    user = svc.get_user(user_id)
    if request.method == "GET":
        return _edit_page(user)
    form = UserEditForm()
    form.set_units(svc.all_units())
    if form.validate_on_submit():
        try:
            svc.update_user(actor(), user_id, display_name=form.display_name.data or "",
                            email=form.email.data or "", role=form.role.data or "", unit_id=form.unit.data)
        except Invalid as exc:
            apply_errors(form, exc.errors)
        else:
            flash(f"已保存用户 {user.username}。", "success")
            return redirect(url_for("admin.users"))
    return _edit_page(user, edit_form=form, status=422)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles_required(ADMIN)
def user_password(user_id: int):
    user = svc.get_user(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            svc.reset_password(actor(), user_id, form.password.data or "", form.confirm.data or "",
                               keep_session=session.get(SESSION_KEY))
        except Invalid as exc:
            apply_errors(form, exc.errors)
        else:
            flash(f"已重置用户 {user.username} 的密码。", "success")
            return redirect(url_for("admin.users"))
    return _edit_page(user, reset_form=form, status=422)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(ADMIN)
def user_active(user_id: int):
    user = svc.get_user(user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            svc.set_user_active(actor(), user_id, active)
        except Invalid as exc:
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "danger")
            return _edit_page(user, status=422)
        flash(f"已{'启用' if active else '停用'}用户 {user.username}。", "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@roles_required(ADMIN)
def user_token_revoke(user_id: int, token_id: int):
    user = svc.get_user(user_id)
    if EmptyForm().validate_on_submit():
        try:
            tokens.revoke(actor(), user, token_id)
        except NotFound:
            abort(404)
        db.session.commit()
        flash(f"已吊销用户 {user.username} 的令牌。", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# --------------------------------------------------------------------------- units

@bp.route("/units")
@roles_required(*SUPERVISING)
def units():
    return render_template("admin/units.html", rows=svc.list_units(), can_edit=current_user.role == ADMIN)


@bp.route("/units/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def unit_new():
    form = UnitForm()
    status = 200
    if form.validate_on_submit():
        try:
            unit = svc.create_unit(actor(), full_name=form.full_name.data or "", short_name=form.short_name.data or "",
                                   kind=form.kind.data or "", emails=form.emails.data or "",
                                   active=bool(form.active.data), law_enforcement=bool(form.law_enforcement.data))
        except Invalid as exc:
            apply_errors(form, exc.errors)
            status = 422
        else:
            flash(f"已新建单位 {unit.full_name}。", "success")
            return redirect(url_for("admin.units"))
    elif form.is_submitted():
        status = 422
    return render_template("admin/unit_form.html", form=form, unit=None), status


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN)
def unit_edit(unit_id: int):
    unit = svc.get_unit(unit_id)
    if request.method == "GET":
        form = UnitForm(formdata=None, data={
            "full_name": unit.full_name, "short_name": unit.short_name, "kind": unit.kind,
            "emails": "\n".join(unit.email_list), "active": unit.active, "law_enforcement": unit.law_enforcement})
        return render_template("admin/unit_form.html", form=form, unit=unit, **_robots(unit))
    form = UnitForm()
    if form.validate_on_submit():
        try:
            svc.update_unit(actor(), unit_id, full_name=form.full_name.data or "",
                            short_name=form.short_name.data or "", kind=form.kind.data or "",
                            emails=form.emails.data or "", active=bool(form.active.data),
                            law_enforcement=bool(form.law_enforcement.data))
        except Invalid as exc:
            apply_errors(form, exc.errors)
        else:
            flash(f"已保存单位 {unit.full_name}。", "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit_form.html", form=form, unit=unit, **_robots(unit)), 422


# --------------------------------------------------------------------------- audit log

@bp.route("/audit")
@roles_required(*SUPERVISING)
def audit():
    errors: dict[str, list[str]] = {}
    page = None
    try:
        filt = svc.parse_audit_filter(request.args)
        number = parse_int(request.args.get("page"), field="page", label="页码", low=1, high=100_000) or 1
    except Invalid as exc:
        errors = exc.errors
    else:
        page = svc.search_audit(filt, number, tz=current_app.config["TIMEZONE"])
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    names = target_names(page.items) if page else {}
    return render_template("admin/audit.html", page=page, errors=errors, args=args, names=names,
                           action_labels=ACTION_LABELS), (422 if errors else 200)


def _robots(unit) -> dict:
    """Which group robots the unit has (the robots page edits them)."""
    from ..notify.channels import list_webhooks
    from ..notify.webhooks import KIND_LABELS

    return {"robots": list_webhooks(unit.id), "robot_labels": KIND_LABELS}
