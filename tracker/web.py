"""Helpers for the request layer: today's date, light rules, the current user."""
from __future__ import annotations

from datetime import date

from flask import current_app, request
from flask_login import current_user

from .lights import LightRules
from .services.clock import local_today, parse_iso_date
from .services.errors import Invalid


def app_today() -> date:
    """Today in the configured time zone (the one clock read per request)."""
    return local_today(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def request_today() -> date:
    """``?today=YYYY-MM-DD`` when given (to replay a day), else today. Invalid on a bad date."""
    raw = request.args.get("today", "").strip()
    if not raw:
        return app_today()
    try:
        return parse_iso_date(raw)
    except ValueError as exc:
        raise Invalid({"today": [str(exc)]}) from None


def light_rules() -> LightRules:
    return LightRules.from_config(current_app.config)


def actor():
    """The logged-in user as a plain model object (not the proxy)."""
    return current_user._get_current_object()


def write_today() -> date:
    """The date recorded by a change (report period, claim and completion dates).

    Reads may replay a day with ``?today=``; a change may not backdate itself, so
    the override is honoured for writes only in tests (``TESTING``).
    """
    if current_app.config.get("TESTING"):
        return request_today()
    return app_today()
