"""Tables of the documents capability: the assessment weights and the bulletin register."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class AssessmentRules(db.Model):
    """The assessment weights an admin may change (one row; defaults when absent)."""

    __tablename__ = "assessment_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    on_time: Mapped[float] = mapped_column(Float, default=40.0)
    reporting: Mapped[float] = mapped_column(Float, default=30.0)
    overdue: Mapped[float] = mapped_column(Float, default=30.0)
    per_return: Mapped[float] = mapped_column(Float, default=2.0)
    per_extension: Mapped[float] = mapped_column(Float, default=1.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class BulletinIssue(db.Model):
    """第N期: the number given to a plan's monthly bulletin, kept so a regenerated month keeps it."""

    __tablename__ = "bulletin_issues"
    __table_args__ = (
        UniqueConstraint("plan_id", "year", "month", name="uq_bulletin_issues_month"),
        UniqueConstraint("plan_id", "year", "number", name="uq_bulletin_issues_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
