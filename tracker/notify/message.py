"""One outbox row → an ``EmailMessage`` with a text and an HTML part."""
from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

_SPLIT = re.compile(r"[;,，；\s]+")


def split_addresses(text: str | None) -> list[str]:
    """``a@x.cn; b@y.cn`` → ``['a@x.cn', 'b@y.cn']`` (order kept, duplicates dropped)."""
    seen: list[str] = []
    for part in _SPLIT.split(text or ""):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def build_message(notification, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = notification.subject
    msg["From"] = sender
    msg["To"] = ", ".join(split_addresses(notification.recipients))
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="tracker.local")
    # Lets a receiving system (and the tests) recognise a duplicate.
    msg["X-Tracker-Dedupe-Key"] = notification.dedupe_key
    msg.set_content(notification.body_text or "", charset="utf-8")
    if notification.body_html:
        msg.add_alternative(notification.body_html, subtype="html", charset="utf-8")
    return msg
