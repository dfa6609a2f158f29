"""The plan tree and who answers for it: plans, tasks (measures are the leaves), their periods and
unit links; units and unit groups (SPEC 2)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy import false as sa_false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db
from ..rules.deadlines import deadline_label, effective_deadline_of
from ..rules.status import DONE, NOT_STARTED

UNIT_KINDS = ("区直部门", "街镇", "其他")
LEAD, CO = "lead", "co"


class Plan(db.Model):
    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), unique=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[Optional[date]] = mapped_column(Date)
    end_date: Mapped[Optional[date]] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    tasks: Mapped[list["Task"]] = relationship(back_populates="plan", cascade="all, delete-orphan")


class UnitReading:
    """A unit's derived names and addresses, shared by the model and the read-only
    ``plans.rows.UnitInfo`` (any object with ``full_name``, ``short_name``, ``emails``)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return self.short_name or self.full_name

    @property
    def email_list(self) -> list[str]:
        """Liaison addresses (stored separated by ';')."""
        return [e.strip() for e in (self.emails or "").split(";") if e.strip()]


class Unit(UnitReading, db.Model):
    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)
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


GROUP_RULES = ("kind", "law_enforcement", "members")


GROUP_RULES = ("kind", "law_enforcement", "members")


class UnitGroup(db.Model):
    """A name such as 各街镇 standing for several units in a ledger's unit cell.

    ``rule`` says who belongs: every active unit of ``kind``, every active
    law-enforcement body, or the explicit ``members``.
    """

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

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


class TaskReading:
    """Derived attributes of a task, shared by the model and the read-only rows
    (``plans.rows.TaskRow``) that whole-plan readers use."""

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

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

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

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

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

    __plan_data__ = True  # a change bumps the data revision (cache/revision.py)

    __tablename__ = "task_units"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(4), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    task: Mapped[Task] = relationship(back_populates="unit_links")
    unit: Mapped[Unit] = relationship()
