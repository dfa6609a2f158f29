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
    func,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .rules.deadlines import EXTENDED_MARK, deadline_label, effective_deadline_of  # noqa: F401
from .rules.roles import READERS, ROLE_LABELS, SUPERVISING, VIEWER
from .rules.status import DONE, NOT_STARTED


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (portable across SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


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
    # An administrative law-enforcement body (行政执法主体), member of the group 各行政执法部门.
    law_enforcement: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    @property
    def email_list(self) -> list[str]:
        return [e.strip() for e in (self.emails or "").split(";") if e.strip()]

    @property
    def name(self) -> str:
        return self.short_name or self.full_name


GROUP_RULES = ("kind", "law_enforcement", "members")


class UnitGroup(db.Model):
    """A name such as 各街镇 standing for several units in a ledger's unit cell.

    ``rule`` says who belongs: every active unit of ``kind``, every active
    law-enforcement body, or the explicit ``members``.
    """

    __tablename__ = "unit_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # Other spellings, separated by ';' (区直各部门 for 各区直部门)
    aliases: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[str] = mapped_column(String(20), default="members")
    kind: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list[Unit]] = relationship(secondary="unit_group_members", order_by="Unit.id")

    @property
    def alias_list(self) -> list[str]:
        return [a.strip() for a in (self.aliases or "").split(";") if a.strip()]

    @property
    def names(self) -> list[str]:
        return [self.name] + self.alias_list


class UnitGroupMember(db.Model):
    __tablename__ = "unit_group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("unit_groups.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True, index=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256), default="")
    role: Mapped[str] = mapped_column(String(20), default=VIEWER)
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
        return self.role in SUPERVISING

    @property
    def can_read_all(self) -> bool:
        return self.role in READERS

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class ApiToken(db.Model):
    """A bearer token for the API (only its hash is kept). Usable while not revoked and not expired."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), default="")  # the first characters, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    expires_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class UserSession(db.Model):
    """A login session, kept server-side so logout, a password change or deactivation ends it
    in every worker and host (the cookie carries only the key; ``tracker/accounts/sessions.py``)."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = mapped_column(DateTime)


class TaskReading:
    """Derived attributes of a task, shared by the model and the read-only rows
    (``plans.tasks.TaskRow``) that whole-plan readers use."""

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

    @hybrid_property
    def effective_deadline(self) -> Optional[date]:
        """The deadline in force: an approved extension's date, else the plan's (SPEC 6.1).

        Lights, overdue flags, reminders, the ledger, the export and the API all read
        this; ``deadline`` / ``deadline_text`` stay the plan's original."""
        return effective_deadline_of(self.deadline, self.extended_deadline)

    @effective_deadline.inplace.expression
    @classmethod
    def _effective_deadline_sql(cls):
        return func.coalesce(cls.extended_deadline, cls.deadline)

    @property
    def is_extended(self) -> bool:
        return self.extended_deadline is not None and self.extended_deadline != self.deadline

    @property
    def deadline_label(self) -> str:
        """``2024年6月底前 → 延至 2024-09-30`` when extended, else the original text."""
        return deadline_label(self.deadline_text, self.deadline, self.extended_deadline)

    @property
    def is_done(self) -> bool:
        return self.status == DONE

    @property
    def is_recurring(self) -> bool:
        return bool(self.recurrence_every)


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
    # Deadline extensions (SPEC 6.1): the approved new date; ``deadline`` stays the plan's.
    extended_deadline: Mapped[Optional[date]] = mapped_column(Date)
    # State of the latest extension request: None, pending, approved, rejected.
    extension_state: Mapped[Optional[str]] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Recurring measures (SPEC 6.6): every year|half|quarter|month, due "MM-DD"|"DD"; the
    # status fields above mirror the period labelled ``current_period`` (see rules/periods.py).
    recurrence_every: Mapped[str] = mapped_column(String(10), default="", server_default="")
    recurrence_due: Mapped[str] = mapped_column(String(5), default="", server_default="")
    current_period: Mapped[str] = mapped_column(String(10), default="", server_default="")

    plan: Mapped[Plan] = relationship(back_populates="tasks")
    parent: Mapped[Optional["Task"]] = relationship(remote_side="Task.id", back_populates="children")
    children: Mapped[list["Task"]] = relationship(
        back_populates="parent", order_by="Task.position", cascade="all, delete-orphan"
    )
    unit_links: Mapped[list["TaskUnit"]] = relationship(
        back_populates="task", order_by="TaskUnit.position", cascade="all, delete-orphan"
    )
    periods: Mapped[list["TaskPeriod"]] = relationship(order_by="TaskPeriod.position", cascade="all, delete-orphan")


class TaskPeriod(db.Model):
    """One period of a recurring measure: its own deadline, status, claim and 销号."""

    __tablename__ = "task_periods"
    __table_args__ = (UniqueConstraint("task_id", "label", name="uq_task_periods_task_label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(10))  # 2024 | 2024-H1 | 2024-Q3 | 2024-05
    position: Mapped[int] = mapped_column(Integer, default=0)
    start: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=NOT_STARTED)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    claimed_on: Mapped[Optional[date]] = mapped_column(Date)
    completed_on: Mapped[Optional[date]] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


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


class TodoRead(db.Model):
    """A user's "read" mark on one to-do item (SPEC 6.2), by the item's stable key."""

    __tablename__ = "todo_reads"
    __table_args__ = (UniqueConstraint("user_id", "item_key", name="uq_todo_reads_user_item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(120))
    read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


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
    See ``tracker/cache/revision.py``.
    """

    __tablename__ = "data_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    token: Mapped[str] = mapped_column(String(32))
