"""What reaches people: the outbox of messages, the group robots (webhooks) and to-do read marks."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .plan import Unit


class Notification(db.Model):
    """One email in the outbox. ``dedupe_key`` makes every email exactly-once."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="")
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id"))
    recipients: Mapped[str] = mapped_column(Text)  # ';'-separated addresses, or a webhook's label
    # email | wecom | dingtalk | feishu (SPEC 6.3); webhook rows point at their Webhook (never the secret)
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    webhook_id: Mapped[Optional[int]] = mapped_column(ForeignKey("webhooks.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    unit: Mapped[Optional[Unit]] = relationship()


class Webhook(db.Model):
    """A group robot of a unit or of the bureau (``unit_id`` NULL), SPEC 6.3.

    ``owner`` is ``bureau`` or ``unit:{id}`` so that (owner, kind) is unique on every
    database (a UNIQUE over a NULL unit_id would not be). The secret is stored as is
    (it must be sent to the vendor); it is never shown back in full nor logged.
    """

    __tablename__ = "webhooks"
    __table_args__ = (UniqueConstraint("owner", "kind", name="uq_webhooks_owner_kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # wecom | dingtalk | feishu
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200), default="")
    send_reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    send_urges: Mapped[bool] = mapped_column(Boolean, default=True)
    send_events: Mapped[bool] = mapped_column(Boolean, default=True)
    send_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Optional[Unit]] = relationship()


class TodoRead(db.Model):
    """A user's "read" mark on one to-do item (SPEC 6.2), by the item's stable key."""

    __tablename__ = "todo_reads"
    __table_args__ = (UniqueConstraint("user_id", "item_key", name="uq_todo_reads_user_item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
