"""Bookkeeping of the running service: which daily sweeps ran, the plan data's revision, the schedulers'
heartbeats (read by ``flask --app wsgi health``)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


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
