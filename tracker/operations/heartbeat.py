"""Scheduler heartbeats and the health check (SPEC 6.7).

Every function takes ``now`` (naive UTC); only the scheduler process and the CLI read the clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text, update

from ..extensions import db
from ..models import SchedulerHeartbeat

KEEP_STOPPED = timedelta(days=7)


def start_beat(host: str, pid: int, now: datetime, next_run_at: Optional[datetime] = None) -> int:
    """Record a starting scheduler; returns its heartbeat id. Raises when the database is unreachable."""
    row = SchedulerHeartbeat(host=host[:255], pid=pid, started_at=now, beat_at=now, next_run_at=next_run_at,
                             note="started")
    db.session.add(row)
    db.session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - KEEP_STOPPED))
    db.session.commit()
    return row.id


def beat(beat_id: int, now: datetime, next_run_at: Optional[datetime] = None, note: str = "") -> None:
    values = {"beat_at": now, "note": note[:200]}
    if next_run_at is not None:
        values["next_run_at"] = next_run_at
    db.session.execute(update(SchedulerHeartbeat).where(SchedulerHeartbeat.id == beat_id).values(**values))
    db.session.commit()


def stop_beat(beat_id: int, now: datetime) -> None:
    db.session.execute(update(SchedulerHeartbeat).where(SchedulerHeartbeat.id == beat_id)
                       .values(stopped_at=now, note="stopped"))
    db.session.commit()


def error_line(exc: BaseException) -> str:
    """The driver's own first line (``connection refused …``), not SQLAlchemy's wrapper text."""
    inner = getattr(exc, "orig", None) or exc
    lines = [line for line in str(inner).strip().splitlines() if line.strip() and not line.startswith("(raised")]
    return lines[0] if lines else type(inner).__name__


@dataclass
class Health:
    ok: bool
    line: str


def _age_text(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    if seconds < 120:
        return f"{seconds} 秒"
    if seconds < 7200:
        return f"{seconds // 60} 分钟"
    return f"{seconds // 3600} 小时"


def check_health(now: datetime, max_age_seconds: int, *, tz: str, scheduler: bool = True) -> Health:
    """Does the database answer, and (unless ``scheduler`` is False) did a scheduler beat recently?"""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # connection refused, authentication, timeouts ...
        db.session.rollback()
        return Health(False, f"数据库无法连接：{error_line(exc)}")
    if not scheduler:
        return Health(True, "正常：数据库可连接（未检查调度器）")
    try:
        row = db.session.scalars(select(SchedulerHeartbeat).where(SchedulerHeartbeat.stopped_at.is_(None))
                                 .order_by(SchedulerHeartbeat.beat_at.desc()).limit(1)).first()
    except Exception:
        db.session.rollback()
        return Health(False, "数据库可连接，但没有调度器心跳表：请先运行 flask --app wsgi init-db")
    if row is None:
        return Health(False, "数据库可连接，但没有运行中的调度器（从未启动或已停止）：检查 tracker-scheduler 服务")
    age = (now - row.beat_at).total_seconds()
    where = f"主机 {row.host}，进程 {row.pid}"
    if age > max_age_seconds:
        return Health(False, f"调度器心跳已 {_age_text(age)}未更新（上限 {max_age_seconds} 秒，{where}）：检查 tracker-scheduler 服务")
    nxt = ""
    if row.next_run_at:
        local = row.next_run_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
        nxt = f"，下次每日检查 {local:%Y-%m-%d %H:%M}（{tz}）"
    return Health(True, f"正常：数据库可连接；调度器心跳 {_age_text(age)}前（{where}{nxt}）")
