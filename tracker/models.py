"""Typed SQLAlchemy 2.0 models (SPEC section 2).

Timestamps are naive UTC (``utcnow``); dates (deadlines, ``today``) are local
calendar dates in the configured time zone.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .status import DONE, NOT_STARTED


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (portable across SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


ROLES = ("admin", "supervisor", "unit", "viewer")
ROLE_LABELS = {"admin": "系统管理员", "supervisor": "督办人员（区司法局）", "unit": "责任单位联络员", "viewer": "领导（只读）"}
UNIT_KINDS = ("区直部门", "街镇", "其他")
LEAD, CO = "lead", "co"


class Plan(db.Model):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[Optional[date]] = mapped_column(Date)
    end_date: Mapped[Optional[date]] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tasks: Mapped[list["Task"]] = relationship(back_populates="plan", cascade="all, delete-orphan")


class Unit(db.Model):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="区直部门")
    # Liaison emails separated by ';'
    emails: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def email_list(self) -> list[str]:
        return [e.strip() for e in (self.emails or "").split(";") if e.strip()]

    @property
    def name(self) -> str:
        return self.short_name or self.full_name


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    role: Mapped[str] = mapped_column(String(20), default="viewer")
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    unit: Mapped[Optional[Unit]] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_supervisor(self) -> bool:
        return self.role in ("admin", "supervisor")

    @property
    def can_read_all(self) -> bool:
        return self.role in ("admin", "supervisor", "viewer")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class TaskReading:
    """Derived attributes of a task, shared by the model and the read-only rows
    (``services.tasks.TaskRow``) that whole-plan readers use."""

    __slots__ = ()

    @property
    def lead_units(self) -> list[Unit]:
        return [link.unit for link in self.unit_links if link.role == LEAD]

    @property
    def co_units(self) -> list[Unit]:
        return [link.unit for link in self.unit_links if link.role == CO]

    @property
    def is_ongoing(self) -> bool:
        return self.is_leaf and self.deadline is None

    @property
    def is_done(self) -> bool:
        return self.status == DONE


class Task(TaskReading, db.Model):
    """One node of a plan tree. Leaves (measures) carry status and progress."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_plan_parent", "plan_id", "parent_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[Optional[date]] = mapped_column(Date, index=True)
    deadline_text: Mapped[str] = mapped_column(String(60), default="")
    is_leaf: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=NOT_STARTED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    latest_progress: Mapped[str] = mapped_column(Text, default="")
    last_reported_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_report_period: Mapped[str] = mapped_column(String(7), default="")
    claimed_on: Mapped[Optional[date]] = mapped_column(Date)
    completed_on: Mapped[Optional[date]] = mapped_column(Date)
    completed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    return_comment: Mapped[str] = mapped_column(Text, default="")
    overdue_since: Mapped[Optional[date]] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    parent: Mapped[Optional["Task"]] = relationship(remote_side="Task.id", back_populates="children")
    children: Mapped[list["Task"]] = relationship(
        back_populates="parent", order_by="Task.position", cascade="all, delete-orphan"
    )
    unit_links: Mapped[list["TaskUnit"]] = relationship(
        back_populates="task", order_by="TaskUnit.position", cascade="all, delete-orphan"
    )


class TaskUnit(db.Model):
    """A unit responsible for a task, as lead (牵头) or co-operating (配合)."""

    __tablename__ = "task_units"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(4), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    task: Mapped[Task] = relationship(back_populates="unit_links")
    unit: Mapped[Unit] = relationship()


class ProgressUpdate(db.Model):
    """Append-only journal entry on a measure (进展报送)."""

    __tablename__ = "progress_updates"
    __table_args__ = (Index("ix_updates_task_created", "task_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    report_date: Mapped[date] = mapped_column(Date)
    period: Mapped[str] = mapped_column(String(7), index=True)  # "2024-05"
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

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(10))  # approve | return | reopen
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    reviewer: Mapped[Optional[User]] = relationship()


class TaskEvent(db.Model):
    """Other history entries of a measure: urges (催办), overdue flags set and cleared."""

    __tablename__ = "task_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # urge | overdue | overdue_cleared
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    event_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    actor: Mapped[Optional[User]] = relationship()


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


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[Optional[int]] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class LoginAttempt(db.Model):
    """Failed logins per address, for throttling (per-account counts live on User)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_ip_at", "ip", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class JobRun(db.Model):
    """Which daily sweep ran for which day, so a restarted scheduler can catch up."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "run_date", name="uq_job_runs_job_date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    run_date: Mapped[date] = mapped_column(Date)
    finished_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    summary: Mapped[str] = mapped_column(Text, default="")


class DataRevision(db.Model):
    """One row whose ``revision`` grows with every committed change to the plan data.

    Readers key their per-process caches on (token, revision); ``token`` changes when
    the row is recreated (an emptied database), so a cache never outlives its data.
    See ``tracker/services/revision.py``.
    """

    __tablename__ = "data_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    token: Mapped[str] = mapped_column(String(32))
