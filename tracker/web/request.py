"""Helpers for the request layer: today's date, light rules, the current user, the input guard."""
from __future__ import annotations

from datetime import date

from flask import current_app, flash, g, request
from flask_login import current_user
from wtforms.validators import ValidationError

from ..clock import local_today
from ..errors import Invalid
from ..rules.lights import LightRules
from ..validation import check_mapping, parse_date, text_problem

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def app_today() -> date:
    """Today in the configured time zone: the app's clock (the one clock read per request).

    ``FIXED_TODAY`` (a date, tests only) pins the clock; nothing a request sends can move it.
    """
    fixed = current_app.config.get("FIXED_TODAY")
    if fixed:
        return fixed if isinstance(fixed, date) else date.fromisoformat(str(fixed))
    return local_today(current_app.config["TIMEZONE"])


def _today_arg() -> date | None:
    """``?today=`` parsed once per request (Invalid on a bad value)."""
    if "_today_arg" not in g:
        g._today_arg = parse_date(request.args.get("today"), field="today", label="统计日期 today")
    return g._today_arg


def request_today() -> date:
    """For reads: ``?today=YYYY-MM-DD`` when given (to replay a day), else today. Invalid on a bad date."""
    if request.method not in READ_METHODS:
        return write_today()
    return _today_arg() or app_today()


def write_today() -> date:
    """The date a change records: always the app's clock. ``?today=`` on a write is checked, never honoured."""
    _today_arg()
    return app_today()


# Form fields whose services apply the text rule themselves and show the error on the form (the typed
# text stays). Every other query argument and form field is checked here, before any view runs.
SERVICE_CHECKED_FIELDS = frozenset({
    "narrative", "problems", "next_steps", "comment", "note", "full_name", "short_name", "emails",
    "display_name", "email", "title",
    "username", "password",  # the login form's PlainText validators; the admin's user service checks both
})
FIELD_LABELS = {
    "username": "用户名", "password": "密码", "confirm": "确认密码", "current": "当前密码", "new": "新密码",
    "q": "关键词", "unit": "单位", "task": "任务", "plan": "计划", "today": "统计日期 today",
}


def guard_input():
    """App-wide ``before_request``: the text rule for query arguments and form fields, and a bad
    ``?today=`` refused on every method, before any view runs (so nothing is written)."""
    errors = check_mapping(request.args, FIELD_LABELS)
    if request.method not in READ_METHODS and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        form = [(k, v) for k, v in request.form.items(multi=True) if k not in SERVICE_CHECKED_FIELDS]
        for name, messages in check_mapping(form, FIELD_LABELS).items():
            errors.setdefault(name, messages)
        for upload in request.files.getlist("files") + request.files.getlist("file"):
            if upload.filename and text_problem(upload.filename):
                errors.setdefault("files", []).append("文件名" + text_problem(upload.filename))
    if errors:
        raise Invalid(errors)
    _today_arg()
    return None


class PlainText:
    """WTForms validator: the one text rule (``validation.text_problem``) as a field error on the form,
    so the page re-renders with what was typed instead of answering with the guard's error page."""

    def __init__(self, single_line: bool = True):
        self.single_line = single_line

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str):
            problem = text_problem(field.data, single_line=self.single_line)
            if problem:
                raise ValidationError(f"{field.label.text}{problem}")


def light_rules() -> LightRules:
    return LightRules.from_config(current_app.config)


def actor():
    """The logged-in user as a plain model object (not the proxy)."""
    return current_user._get_current_object()


def apply_errors(form, errors: dict[str, list[str]], *, flash_rest: bool = True) -> list[str]:
    """Attach a service's field errors (``Invalid.errors``) to the form's fields and return the messages
    that have no field there (flashed too, unless ``flash_rest`` is False: the task page lists them itself).
    A form with ``VISIBLE`` (field names) shows errors only on those fields."""
    visible = getattr(form, "VISIBLE", None)
    rest: list[str] = []
    for name, messages in errors.items():
        shown = name in form._fields and (visible is None or name in visible)
        if shown:
            field = form[name]
            field.errors = list(field.errors or []) + list(messages)
        else:
            rest.extend(messages)
    if flash_rest:
        for message in rest:
            flash(message, "danger")
    return rest