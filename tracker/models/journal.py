"""The journal of a measure: progress reports and their evidence files, reviews, other events
(urges, overdue flags, periods) and deadline extensions. Rows are appended, never rewritten."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from .people import User
from .plan import Task, Unit


class ProgressUpdate(db.Model):
    """Append-only journal entry on a measure (进展报送)."""

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

    __tablename__ = "progress_updates"
    __table_args__ = (Index("ix_updates_task_created", "task_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    report_date: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(7), index=True)  # "2024-05"
    task_period: Mapped[str] = mapped_column(String(10), default="", server_default="")  # recurring: "2024"
    status: Mapped[str] = mapped_column(String(20))
    progress: Mapped[int] = mapped_column(Integer)
    narrative: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship()
    user: Mapped[Optional[User]] = relationship()
    unit: Mapped[Optional[Unit]] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="update", order_by="Attachment.id")


class Attachment(db.Model):
    """Evidence file (佐证材料), stored outside static/ under a random name."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    update_id: Mapped[Optional[int]] = mapped_column(ForeignKey("progress_updates.id", ondelete="CASCADE"), index=True)
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    update: Mapped[Optional[ProgressUpdate]] = relationship(back_populates="attachments")


class Review(db.Model):
    """A supervisor's decision on a measure: approve (销号), return (退回), reopen."""

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(10))  # approve | return | reopen
    task_period: Mapped[str] = mapped_column(String(10), default="", server_default="")  # recurring: "2024"
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The local day of the decision (the ``today`` of the use case), for replaying the journal.
    decided_on: Mapped[Optional[date]] = mapped_column(Date)

    reviewer: Mapped[Optional[User]] = relationship()


class TaskEvent(db.Model):
    """Other history entries of a measure: urges (催办), overdue flags set and cleared."""

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

    __tablename__ = "task_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # urge | overdue | overdue_cleared
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    event_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[Optional[User]] = relationship()


class DeadlineExtension(db.Model):
    """A request to extend a measure's deadline (延期申请), or a supervisor's direct change.

    At most one pending request per measure (a partial unique index). The task's
    original deadline is never changed; approval sets ``Task.extended_deadline``.
    """

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

    __tablename__ = "deadline_extensions"
    __table_args__ = (
        Index("uq_extensions_one_pending", "task_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id"), index=True)
    requested_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    request_date: Mapped[date] = mapped_column(Date)
    old_deadline: Mapped[Optional[date]] = mapped_column(Date)  # effective deadline when requested
    new_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # 逾期申请: asked after the deadline
    direct: Mapped[bool] = mapped_column(Boolean, default=False)  # set by a supervisor, no request
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | approved | rejected
    decided_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    decision_date: Mapped[Optional[date]] = mapped_column(Date)
    comment: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[Task] = relationship()
    unit: Mapped[Optional[Unit]] = relationship()
    requested_by: Mapped[Optional[User]] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[Optional[User]] = relationship(foreign_keys=[decided_by_id])


class EvidenceBlob(db.Model):
    """The bytes of one evidence file kept in the database (the ``database`` store)."""

    __tablename__ = "evidence_blobs"
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    # Many-to-one only, so the unit of work inserts the attachment row first.
    attachment: Mapped[Attachment] = relationship()
