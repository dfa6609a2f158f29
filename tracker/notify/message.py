"""One outbox row → an ``EmailMessage`` with a text and an HTML part."""
from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

_SPLIT = re.compile(r"[;,，；\s]+")
_HEADER_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def split_addresses(text: str | None) -> list[str]:
    """``a@x.cn; b@y.cn`` → ``['a@x.cn', 'b@y.cn']`` (order kept, duplicates dropped)."""
    seen: list[str] = []
    for part in _SPLIT.split(text or ""):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def header_text(text: str | None) -> str:
    """A header value that can never raise a header error: line breaks and control characters become spaces
    (names are validated on entry; this also covers rows stored before that rule)."""
    return " ".join(_HEADER_BAD.sub(" ", text or "").split())


def build_message(notification, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = header_text(notification.subject)
    msg["From"] = sender
    msg["To"] = header_text(", ".join(split_addresses(notification.recipients)))
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="tracker.local")
    # Lets a receiving system (and the tests) recognise a duplicate.
    msg["X-Tracker-Dedupe-Key"] = notification.dedupe_key
    msg.set_content(notification.body_text or "", charset="utf-8")
    if notification.body_html:
        msg.add_alternative(notification.body_html, subtype="html", charset="utf-8")
    return msg
