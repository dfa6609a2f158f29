"""The 报表 page (supervisors, viewers, admins): assessment table and chart, downloads, weights."""
from __future__ import annotations

from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for

from ..errors import Invalid, NotFound
from ..plans.tasks import get_plan, list_plans
from ..rules.roles import ADMIN, READERS
from ..validation import parse_id
from ..web.access import roles_required
from ..web.request import actor, request_today, write_today
from . import bp
from .assessment import SORTS, sort_rows
from .charts import score_svg
from .forms import BulletinForm, WeightsForm
from .generate import annual_file, assessment_file, bulletin_file, month_of, year_period
from .service import WEIGHT_FIELDS, assess_period, current_weights, load_plan_data, resolve, save_weights

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plan_arg(source) -> int | None:
    return parse_id(source.get("plan"), field="plan", label="计划编号")


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=report{filename[filename.rfind('.'):]}; "
                               f"filename*=UTF-8''{quote(filename)}"})


def _page(errors: dict | None = None, status: int = 200, bulletin_form: BulletinForm | None = None,
          weights_form: WeightsForm | None = None):
    errors = dict(errors or {})
    today = request_today()
    plan_id = _plan_arg(request.args)
    period_text = (request.args.get("period") or "").strip() or str(today.year)
    sort = request.args.get("sort", "rank")
    sort = sort if sort in SORTS else "rank"
    descending = request.args.get("dir", "asc" if sort in ("rank", "unit") else "desc") == "desc"
    result = plan = None
    try:
        plan = get_plan(plan_id)
    except NotFound:
        if plan_id is not None:
            raise
    if plan is not None and "period" not in errors:
        try:
            plan, period = resolve(plan_id, period_text)
            result = assess_period(load_plan_data(plan), period, today)
        except Invalid as exc:
            errors.update(exc.errors)
    rows = sort_rows(result.units, sort, descending) if result else []
    weights = result.weights if result else current_weights()
    if weights_form is None:
        weights_form = WeightsForm(data={k: f"{v:g}" for k, v in weights.as_dict().items()})
    keep = {k: request.args[k] for k in ("plan", "today", "period") if (request.args.get(k) or "").strip()}
    return render_template(
        "documents/index.html", plan=plan, plans=list_plans(), result=result, rows=rows, errors=errors,
        period_text=period_text, sort=sort, descending=descending, sorts=SORTS, keep=keep, today=today,
        chart=score_svg([(r.unit, r.score) for r in result.units]) if result else None, weights=weights,
        bulletin_form=bulletin_form or BulletinForm(data={"month": f"{today.year:04d}-{today.month:02d}"}),
        weights_form=weights_form, weight_fields=WEIGHT_FIELDS,
        year_text=(request.args.get("year") or "").strip() or str(today.year),
    ), status


@bp.route("")
@roles_required(*READERS)
def index():
    return _page()


@bp.route("/assessment.xlsx")
@roles_required(*READERS)
def assessment_download():
    try:
        plan, period = resolve(_plan_arg(request.args), request.args.get("period"))
    except Invalid as exc:
        return _page(exc.errors, 422)
    data = assessment_file(plan, period, request_today())
    return _download(data, XLSX, f"考核-{period.label}.xlsx")


@bp.route("/annual.docx")
@roles_required(*READERS)
def annual_download():
    try:
        year_period(request.args.get("year"), "year")
        plan, period = resolve(_plan_arg(request.args), request.args.get("year"), "year")
    except Invalid as exc:
        return _page(exc.errors, 422)
    data = annual_file(plan, period, request_today())
    return _download(data, DOCX, f"{period.label}年度工作情况报告（草稿）.docx")


@bp.route("/bulletin", methods=["POST"])
@roles_required(*READERS)
def bulletin_download():
    form = BulletinForm()
    if not form.validate_on_submit():
        return _page({k: list(v) for k, v in form.errors.items()}, 422, bulletin_form=form)
    try:
        month_of(form.month.data, "month")
        plan, period = resolve(_plan_arg(request.form), form.month.data, "month")
    except Invalid as exc:
        form.month.errors = exc.errors.get("month", [])
        return _page(exc.errors, 422, bulletin_form=form)
    number, data = bulletin_file(plan, period, write_today(), actor())
    return _download(data, DOCX, f"工作通报-{period.start.year}年第{number}期-{period.label}.docx")


@bp.route("/weights", methods=["POST"])
@roles_required(ADMIN)
def weights_post():
    form = WeightsForm()
    if not form.validate_on_submit():
        return _page({}, 400, weights_form=form)
    try:
        weights = save_weights(actor(), request.form)
    except Invalid as exc:
        for name, messages in exc.errors.items():
            getattr(form, name).errors = messages
        return _page({}, 422, weights_form=form)
    flash(f"考核权重已更新：{weights.formula()}", "success")
    return redirect(url_for("documents.index"))
