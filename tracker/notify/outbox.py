"""The outbox (SPEC 2.4): exactly-once enqueueing and safe delivery with retries.

* ``enqueue`` inserts a row with ``INSERT … ON CONFLICT (dedupe_key) DO NOTHING``
  (SQLite and PostgreSQL), so a second run, or a second process, creates nothing.
* ``deliver_queued`` claims one row at a time with a conditional UPDATE
  (``state='queued'`` → ``'sending'`` plus a lease in ``next_attempt_at``) and
  commits the claim before talking to SMTP, so two deliverers never send one
  email twice. A claim whose lease ran out (the process died mid-send) becomes
  claimable again: a crash can, at worst, resend once; it never loses an email.
* Each row carries its channel (``email``, ``wecom``, ``dingtalk``, ``feishu``) and goes to that channel's
  sender through one lookup (``channel_senders``).
* A failure keeps the row queued with ``attempts+1``, ``last_error`` and an
  exponential backoff; after ``MAIL_MAX_ATTEMPTS`` it is ``failed`` and shown on
  the outbox page, where a supervisor can resend it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit
from ..errors import Invalid, NotFound
from ..extensions import db
from ..models import Notification, User, utcnow
from .message import EmailSender
from .robots import Deferred, PermanentError, RobotSender
from .transport import DeliveryError, transport_from_config
from .webhooks import CHANNEL_LABELS, KINDS, RateLimited

log = logging.getLogger(__name__)

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
EMAIL = "email"
STATES = (QUEUED, SENDING, SENT, FAILED)
STATE_LABELS = {QUEUED: "待发送", SENDING: "发送中", SENT: "已发送", FAILED: "发送失败"}
KIND_LABELS = {"unit_daily": "单位提醒", "bureau_digest": "督办日报", "urge": "催办", "event": "事件通知"}


def _insert(values: dict):
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(Notification)
    elif dialect == "sqlite":
        stmt = sqlite.insert(Notification)
    else:  # pragma: no cover - other databases are not supported
        raise RuntimeError(f"unsupported database dialect {dialect}")
    return stmt.values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])


def enqueue(*, dedupe_key: str, recipients: list[str], subject: str, body_text: str, body_html: str = "",
            kind: str = "", unit_id: Optional[int] = None, channel: str = "email",
            webhook_id: Optional[int] = None) -> bool:
    """Put one message in the outbox; False (and nothing written) when the key exists already.

    ``channel`` is ``email`` (recipients are addresses) or a robot kind (``webhook_id`` points at the
    robot's settings row, ``body_text`` is the vendor's JSON payload without signature).

    Runs in the caller's transaction; the caller commits.
    """
    inserted = db.session.execute(_insert({
        "dedupe_key": dedupe_key[:200],
        "kind": kind,
        "unit_id": unit_id,
        "recipients": ";".join(recipients),
        "subject": subject[:300],
        "body_text": body_text,
        "body_html": body_html,
        "state": QUEUED,
        "attempts": 0,
        "last_error": "",
        "created_at": utcnow(),
        "channel": channel,
        "webhook_id": webhook_id,
    }).returning(Notification.id)).scalar_one_or_none()
    # RETURNING, not rowcount: the ORM-enabled insert does not report rowcount on every driver.
    return inserted is not None


@dataclass
class DeliveryResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another process first
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"发送 {self.sent} 封，待重试 {self.retrying} 封，失败 {self.failed} 封"


def backoff(attempts: int, base_seconds: int) -> timedelta:
    """Delay before the next attempt after ``attempts`` failures: base, 2×base, 4×base … (max 1 day)."""
    return timedelta(seconds=min(base_seconds * (2 ** max(attempts - 1, 0)), 86400))


def _due_condition(now: datetime):
    return or_(
        and_(Notification.state == QUEUED,
             or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)),
        and_(Notification.state == SENDING, Notification.next_attempt_at <= now),  # lease ran out
    )


def claim(ids: list[int], now: datetime, lease: timedelta) -> list[int]:
    """Claim due rows among ``ids`` for this process; returns the ids it got (one commit).

    The conditional UPDATE is the lock: of two processes claiming the same row,
    only one sees it still due and changes it.
    """
    if not ids:
        return []
    claimed = list(db.session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), _due_condition(now))
        .values(state=SENDING, next_attempt_at=now + lease)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    ).scalars())
    db.session.commit()
    return sorted(claimed)


def channel_senders(config, transport=None) -> dict:
    """The one lookup of each channel's sender: e-mail rows go through ``transport`` (default: SMTP, or .eml
    files with no MAIL_SERVER), robot rows to their vendor. A sender has ``send(row, now) -> note`` and
    ``keeps_note`` (whether the note stays on the sent row)."""
    email = EmailSender(transport or transport_from_config(config),
                        config.get("MAIL_DEFAULT_SENDER") or "tracker@localhost")
    robots = RobotSender(config)
    return {EMAIL: email, **{kind: robots for kind in KINDS}}


def deliver_queued(now: datetime, *, limit: Optional[int] = None, transport=None, chunk: int = 20) -> DeliveryResult:
    """Deliver every due queued row, each through the sender of its channel. ``now`` (naive UTC) drives
    leases and backoff; ``transport`` replaces the e-mail transport.

    Rows are claimed in small chunks (so a slow SMTP server cannot outlive the
    lease of a big claim) and each result is committed right after its send.
    """
    config = current_app.config
    senders = channel_senders(config, transport)
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS") or 5)
    base = int(config.get("MAIL_RETRY_SECONDS") or 300)
    lease = timedelta(seconds=int(config.get("MAIL_LEASE_SECONDS") or 600))
    limit = limit or int(config.get("MAIL_BATCH_SIZE") or 200)

    result = DeliveryResult()
    ids = list(db.session.execute(
        select(Notification.id).where(_due_condition(now)).order_by(Notification.id).limit(limit)
    ).scalars())
    db.session.commit()  # end the read so the claims below see other processes' commits
    try:
        for offset in range(0, len(ids), chunk):
            wanted = ids[offset:offset + chunk]
            mine = claim(wanted, now, lease)
            result.skipped += len(wanted) - len(mine)
            for notification_id in mine:
                _deliver_one(notification_id, senders, now, max_attempts, base, result)
    finally:
        senders[EMAIL].close()
    return result


def _send(row: Notification, senders: dict, now: datetime) -> tuple[str, str, int, bool]:
    """(note kept on the row, error, retry_after seconds, permanent) of one attempt through the row's channel;
    raises Deferred when a robot's rate budget is used up."""
    sender = senders.get(row.channel)
    if sender is None:
        return "", f"未知的发送渠道：{row.channel}", 0, True
    try:
        note = sender.send(row, now)
    except RateLimited as exc:
        return "", str(exc), exc.retry_after, False
    except PermanentError as exc:
        return "", str(exc), 0, True
    except DeliveryError as exc:
        return "", str(exc), 0, False
    return (note or "") if sender.keeps_note else "", "", 0, False


def _deliver_one(notification_id: int, senders: dict, now: datetime, max_attempts: int, base: int,
                 result: DeliveryResult) -> None:
    row = db.session.get(Notification, notification_id, populate_existing=True)
    retry_after, permanent = 0, False
    try:
        note, error, retry_after, permanent = _send(row, senders, now)
    except Deferred as exc:
        _finish(notification_id, {"state": QUEUED, "next_attempt_at": exc.until, "last_error": str(exc)})
        result.retrying += 1
        return
    except Exception as exc:  # never lose the row on an unexpected error
        log.exception("unexpected error delivering notification %s", notification_id)
        note, error = "", f"{type(exc).__name__}: {exc}"
    attempts = (row.attempts or 0) + 1
    if not error:
        values = {"state": SENT, "attempts": attempts, "sent_at": now, "next_attempt_at": None, "last_error": note}
        result.sent += 1
    elif attempts >= max_attempts or permanent:
        values = {"state": FAILED, "attempts": attempts, "last_error": error[:2000], "next_attempt_at": None}
        result.failed += 1
        result.errors.append(f"{row.subject}：{error}")
        log.error("mail %s failed for good after %d attempts: %s", row.dedupe_key, attempts, error)
    else:
        values = {"state": QUEUED, "attempts": attempts, "last_error": error[:2000],
                  "next_attempt_at": now + max(backoff(attempts, base), timedelta(seconds=retry_after))}
        result.retrying += 1
        result.errors.append(f"{row.subject}：{error}")
        log.warning("mail %s attempt %d failed: %s", row.dedupe_key, attempts, error)
    _finish(notification_id, values)


def _finish(notification_id: int, values: dict) -> None:
    # Only the holder of the claim finishes it.
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.state == SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# --- the outbox page -----------------------------------------------------------------------------

@dataclass
class OutboxFilter:
    state: str = ""
    kind: str = ""
    q: str = ""
    channel: str = ""


def parse_outbox_filter(args) -> OutboxFilter:
    f = OutboxFilter(state=(args.get("state") or "").strip(), kind=(args.get("kind") or "").strip(),
                     q=(args.get("q") or "").strip()[:100], channel=(args.get("channel") or "").strip())
    errors = {}
    if f.state and f.state not in STATES:
        errors["state"] = ["状态应为 " + "、".join(STATES) + " 之一"]
    if f.kind and f.kind not in KIND_LABELS:
        errors["kind"] = ["类别无效"]
    if f.channel and f.channel not in CHANNEL_LABELS:
        errors["channel"] = ["渠道无效"]
    if errors:
        raise Invalid(errors)
    return f


def list_notifications(f: OutboxFilter, limit: int = 300) -> tuple[list[Notification], dict[str, int]]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if f.state:
        query = query.where(Notification.state == f.state)
    if f.kind:
        query = query.where(Notification.kind == f.kind)
    if f.channel:
        query = query.where(Notification.channel == f.channel)
    if f.q:
        like = f"%{f.q}%"
        query = query.where(or_(Notification.subject.like(like), Notification.recipients.like(like),
                                Notification.dedupe_key.like(like)))
    rows = list(db.session.execute(query).scalars())
    counts = dict(db.session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all())
    return rows, {s: counts.get(s, 0) for s in STATES}


def resend(actor: User, notification_id: int) -> Notification:
    """Put a failed email back in the queue (attempts reset); one commit, audited."""
    row = db.session.get(Notification, notification_id)
    if row is None:
        raise NotFound("未找到该邮件")
    if row.state != FAILED:
        raise Invalid({"state": [f"只有发送失败的邮件可以重发（当前：{STATE_LABELS.get(row.state, row.state)}）"]})
    changed = db.session.execute(
        update(Notification)
        .where(Notification.id == row.id, Notification.state == FAILED)
        .values(state=QUEUED, attempts=0, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise Invalid({"state": ["该邮件状态已变化，请刷新"]})
    audit.record("notification_resend", actor, target_type="notification", target_id=row.id,
                 detail=f"{row.subject} → {row.recipients}")
    db.session.commit()
    db.session.refresh(row)
    return row
