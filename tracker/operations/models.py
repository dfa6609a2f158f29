"""The scheduler's heartbeat: one row per scheduler process, read by ``flask --app wsgi health``."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import utcnow


class SchedulerHeartbeat(db.Model):
    """A running (or stopped) scheduler: where it runs, when it last beat, its next daily sweep."""

    __tablename__ = "scheduler_heartbeats"
    __table_args__ = (UniqueConstraint("host", "pid", "started_at", name="uq_scheduler_heartbeats_process"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    next_run_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    stopped_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(String(200), default="")
