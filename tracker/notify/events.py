"""Event notices (SPEC 6.2): what just happened to a measure, sent at once through the outbox.

Each notice is composed once (``compose.event_notice``: subject, greeting, what happened, the facts, what to
do next, a link) and queued on every channel of its recipients (``channels.queue_message``): the e-mail and
each group robot that takes event notices (rule ``events``). Queued in the caller's transaction under a dedupe
key that names the event row (``event:{kind}:{id}:unit:{unit}`` or ``…:bureau``; robots add their kind), so one
event gives exactly one message per recipient group and channel, however often it is replayed. Delivery is the
outbox's (the scheduler's delivery sweep or the next ``send-reminders``).

* to the unit: 退回 and 销号 (the lead units), extension decisions and direct deadline
  changes (the requesting unit, else the lead units);
* to the supervisors: new completion claims and extension requests, unless
  ``NOTIFY_SUPERVISORS_ON_EVENTS`` (env ``TRACKER_NOTIFY_SUPERVISORS_ON_EVENTS``) is off.
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional

from flask import current_app

from ..rules.roles import UNIT
from .channels import queue_message
from .compose import Message, event_notice
from .email import bureau_recipients

log = logging.getLogger(__name__)


def _compose(event: str, task, unit, context: dict) -> Message:
    return event_notice(event, task, unit=unit, base_url=current_app.config.get("BASE_URL") or "", **context)


def _queue(key: str, recipients: list[str], message: Message, unit_id: Optional[int]) -> bool:
    """The notice's e-mail (when there are addresses) and robots; True when anything new was queued."""
    if not recipients:
        log.warning("event notice %s has no e-mail recipients", key)
    queued = queue_message(message, key=key, emails=recipients, unit_id=unit_id, rule="events")
    if queued.error:  # a broken template must not undo the user's change
        log.error("event notice %s not rendered: %s", key, queued.error)
    return queued.new


def notify_units(event: str, event_id: int, task, units: Iterable, **context) -> int:
    """Queue one notice per active unit (its e-mail and robots); returns for how many units anything was new."""
    queued = 0
    for unit in units:
        if not unit.active:
            continue
        message = _compose(event, task, unit, context)
        if _queue(f"event:{event}:{event_id}:unit:{unit.id}", unit.email_list, message, unit.id):
            queued += 1
    return queued


def supervisors_notified() -> bool:
    return bool(current_app.config["NOTIFY_SUPERVISORS_ON_EVENTS"])


def notify_supervisors(event: str, event_id: int, task, unit=None, **context) -> int:
    """Queue one notice to the bureau (``BUREAU_EMAILS`` or the supervisors, and the bureau's robots), unless
    switched off."""
    if not supervisors_notified():
        return 0
    message = _compose(event, task, unit, context)
    return int(_queue(f"event:{event}:{event_id}:bureau", bureau_recipients(current_app.config), message, None))


def actor_name(user) -> str:
    if user is None:
        return "系统"
    unit = f"（{user.unit.short_name}）" if getattr(user, "unit", None) is not None and user.role == UNIT else ""
    return (user.display_name or user.username) + unit
