"""The e-mail channel: a composed ``Message`` → subject, text and HTML bodies, queued in the outbox.

The subject is the message's title; the bodies come from ``templates/email/<kind>.txt`` and ``.html`` (kind:
``unit_daily``, ``bureau_digest``, ``urge``, ``event``), each fed the one ``Message`` (``message``). The e-mail
adds only what belongs to e-mail: the salutation "您好！", the "do not reply" line and the signature; the
digest's e-mail is headed by its date and lists its sections (its intro line and overdue-list link are for the
robots). Delivery of an e-mail row is ``message.EmailSender``'s.
"""
from __future__ import annotations

from typing import Optional

from flask import render_template
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..rules.roles import SUPERVISOR
from .compose import Message
from .message import split_addresses
from .outbox import enqueue


def _render(name: str, **context) -> tuple[str, str]:
    return render_template(f"email/{name}.txt", **context), render_template(f"email/{name}.html", **context)


def render(message: Message) -> tuple[str, str]:
    """(text, html) of the message; raises ``jinja2.TemplateError`` when its template is broken."""
    return _render(message.kind, message=message)


def queue(message: Message, *, key: str, recipients: list[str], unit_id: Optional[int] = None) -> bool:
    """Render and enqueue one e-mail (the caller's transaction); False when ``key`` is queued already."""
    text, html = render(message)
    return enqueue(dedupe_key=key, recipients=recipients, subject=message.title, body_text=text, body_html=html,
                   kind=message.kind, unit_id=unit_id)


def bureau_recipients(config) -> list[str]:
    """``BUREAU_EMAILS``, else every active supervisor's address."""
    configured = split_addresses(config.get("BUREAU_EMAILS") or "")
    if configured:
        return configured
    emails = db.session.execute(
        select(User.email).where(User.role == SUPERVISOR, User.active.is_(True), User.email != "").order_by(User.id)
    ).scalars()
    return split_addresses(";".join(emails))
