"""Unit groups (单位组): admin edits, supervisor reads (SPEC 6.6)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import Invalid
from ..plans import unit_groups as svc
from ..rules.roles import ADMIN, SUPERVISING
from ..web.access import roles_required
from ..web.forms import EmptyForm
from ..web.request import actor, apply_errors
from . import admin as admin_svc
from .admin_forms import UnitGroupForm
from .admin_views import bp


@bp.route("/unit-groups")
@roles_required(*SUPERVISING)
def unit_groups():
    units = admin_svc.all_units()
    rows = [(g, svc.member_units(g, units)) for g in svc.all_groups()]
    return render_template("admin/unit_groups.html", rows=rows, rule_labels=svc.RULE_LABELS,
                           can_edit=current_user.role == ADMIN, delete_form=EmptyForm())


def _save(group_id):
    form = UnitGroupForm()
    form.set_units(admin_svc.all_units())
    if form.validate_on_submit():
        try:
            group = svc.save_group(actor(), group_id, name=form.name.data or "", aliases=form.aliases.data or "",
                                   rule=form.rule.data or "", kind=form.kind.data or "",
                                   member_ids=[m for m in (form.members.data or []) if str(m).isdigit()],
                                   note=form.note.data or "")
        except Invalid as exc:
            apply_errors(form, exc.errors)
        else:
            flash(f"已保存单位组 {group.name}。", "success")
            return redirect(url_for("admin.unit_groups"))
    return render_template("admin/unit_group_form.html", form=form, group_id=group_id), 422


@bp.route("/unit-groups/new", methods=["GET", "POST"])
@roles_required(ADMIN)
def unit_group_new():
    if request.method == "POST":
        return _save(None)
    form = UnitGroupForm(formdata=None)
    form.set_units(admin_svc.all_units())
    return render_template("admin/unit_group_form.html", form=form, group_id=None)


@bp.route("/unit-groups/<int:group_id>/edit", methods=["GET", "POST"])
@roles_required(ADMIN)
def unit_group_edit(group_id: int):
    group = svc.get_group(group_id)
    if request.method == "POST":
        return _save(group.id)
    form = UnitGroupForm(formdata=None, data={
        "name": group.name, "aliases": "\n".join(group.alias_list), "rule": group.rule, "kind": group.kind,
        "members": [str(u.id) for u in group.members], "note": group.note})
    form.set_units(admin_svc.all_units())
    return render_template("admin/unit_group_form.html", form=form, group_id=group.id)


@bp.route("/unit-groups/<int:group_id>/delete", methods=["POST"])
@roles_required(ADMIN)
def unit_group_delete(group_id: int):
    form = EmptyForm()
    if not form.validate_on_submit():
        flash("请求已失效，请重试", "danger")
        return redirect(url_for("admin.unit_groups"))
    svc.delete_group(actor(), group_id)
    flash("已删除单位组。", "success")
    return redirect(url_for("admin.unit_groups"))
