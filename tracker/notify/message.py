"""One outbox row → an ``EmailMessage`` with a text and an HTML part, and the e-mail channel's sender."""
from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .transport import DeliveryError

log = logging.getLogger(__name__)

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


class EmailSender:
    """Delivers the outbox's e-mail rows through a transport (SMTP, or ``.eml`` files with no MAIL_SERVER)."""

    def __init__(self, transport, sender: str):
        self.transport, self.sender = transport, sender
        # SMTP's note (recipients it refused) stays on the sent row; the file transport's is the file's path.
        self.keeps_note = getattr(transport, "name", "") == "smtp"

    def send(self, row, now) -> str:
        """Send one row; returns the transport's note, raises DeliveryError."""
        recipients = split_addresses(row.recipients)
        if not recipients:
            raise DeliveryError("没有收件人地址")
        note = self.transport.send(build_message(row, self.sender), recipients) or ""
        if getattr(self.transport, "name", "") == "file":
            log.info("mail written to %s (%s)", note, row.subject)
        return note

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()
