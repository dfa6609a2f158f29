"""Upload -> dry-run preview -> confirm. Between the two steps the file waits in
instance/imports/ under a random name, referenced by an opaque token."""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from ..errors import Invalid
from ..files import write_private
from ..rules.roles import ADMIN
from ..web.access import roles_required
from ..web.request import actor
from .excel_import import import_plan_file
from .unit_groups import parse_mapping

bp = Blueprint("imports", __name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_SECONDS = 24 * 3600


def _folder() -> Path:
    from ..files import private_dir

    return private_dir(Path(current_app.instance_path) / "imports")


def _max_bytes() -> int:
    return int(current_app.config["IMPORT_MAX_BYTES"])


def _path_for(token: str) -> Path | None:
    if not TOKEN_RE.match(token or ""):
        return None
    return _folder() / f"{token}.xlsx"


def _sweep() -> None:
    """Forget uploads that were never confirmed."""
    cutoff = time.time() - KEEP_SECONDS
    for path in _folder().glob("*.xlsx"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass


def _options(form) -> dict:
    return {
        "mapping_text": (form.get("mapping") or "").strip()[:5000],
        "title": (form.get("title") or "").strip()[:300] or None,
        "create_units": form.get("create_units") in ("1", "on", "y", "true"),
        "replace": form.get("replace") in ("1", "on", "y", "true"),
    }


def _import_args(options: dict) -> dict:
    return {k: v for k, v in options.items() if k != "mapping_text"}


@bp.route("/import", methods=["GET", "POST"])
@roles_required(ADMIN)
def upload():
    if request.method == "GET":
        return render_template("imports/upload.html", options=_options({}), max_mb=_max_bytes() // 1024 // 1024)
    options = _options(request.form)
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        flash("请选择要导入的 .xlsx 文件", "danger")
        return render_template("imports/upload.html", options=options, max_mb=_max_bytes() // 1024 // 1024), 400
    filename = Path(upload_file.filename).name[:200]
    data = upload_file.stream.read(_max_bytes() + 1)
    try:
        mapping = parse_mapping(options["mapping_text"])
    except Invalid as exc:
        for message in exc.errors.get("mapping", []):
            flash(message, "danger")
        return render_template("imports/upload.html", options=options, max_mb=_max_bytes() // 1024 // 1024), 422
    report = import_plan_file(data, actor(), dry_run=True, filename=filename, max_bytes=_max_bytes(),
                              mapping=mapping, **_import_args(options))
    token = ""
    if report.ok:
        _sweep()
        token = secrets.token_urlsafe(24)
        write_private(_path_for(token), data)
    return render_template("imports/preview.html", report=report, token=token, options=options, filename=filename,
                           status=200 if report.ok else 422), 200 if report.ok else 422


@bp.route("/import/confirm", methods=["POST"])
@roles_required(ADMIN)
def confirm():
    options = _options(request.form)
    path = _path_for(request.form.get("token", ""))
    filename = (request.form.get("filename") or "")[:200]
    if path is None or not path.is_file():
        flash("上传的文件已失效，请重新上传", "warning")
        return redirect(url_for("imports.upload"))
    data = path.read_bytes()
    try:
        mapping = parse_mapping(options["mapping_text"])
    except Invalid:
        flash("单位映射格式不正确，请重新上传", "danger")
        return redirect(url_for("imports.upload"))
    report = import_plan_file(data, actor(), dry_run=False, filename=filename, max_bytes=_max_bytes(),
                              mapping=mapping, **_import_args(options))
    path.unlink(missing_ok=True)
    if not report.ok:
        return render_template("imports/preview.html", report=report, token="", options=options, filename=filename,
                               status=422), 422
    flash(f"已导入计划“{report.title}”：{report.counts}", "success")
    return redirect(url_for("ledger.index", plan=report.plan_id))


@bp.route("/import/cancel", methods=["POST"])
@roles_required(ADMIN)
def cancel():
    path = _path_for(request.form.get("token", ""))
    if path is not None:
        path.unlink(missing_ok=True)
    flash("已取消导入", "info")
    return redirect(url_for("imports.upload"))
