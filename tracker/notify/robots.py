"""Delivering one outbox row to its group robot, within the vendor's rate limit.

The limit is kept across processes and runs by counting the robot's rows sent in the last minute
(``sent_at`` is the deliverer's ``now``, so tests drive it with an injected clock): a row over the
budget is put back in the queue for a minute without counting an attempt. Feishu's "5 次/秒" is kept
by pacing consecutive requests to one Feishu robot (``WEBHOOK_FEISHU_INTERVAL`` seconds apart).
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import Notification, Webhook
from .transport import DeliveryError
from .webhooks import VENDORS, transport_from_config

# Stay a little under the documented per-minute limits (DingTalk blocks a robot for 10 minutes when
# its 20 per minute are exceeded).
BUDGET = {"wecom": 18, "dingtalk": 18, "feishu": 95}


class Deferred(Exception):
    """Not sent now (rate budget used up); retry at ``until`` without counting an attempt."""

    def __init__(self, message: str, until: datetime):
        super().__init__(message)
        self.until = until


class PermanentError(DeliveryError):
    """Retrying cannot help (the robot was removed): the row fails at once."""


class RobotSender:
    """Delivers the outbox's robot rows (every vendor) to their robot."""

    keeps_note = False  # the vendor's answer is not kept on a sent row

    def __init__(self, config, *, sleep=time.sleep, monotonic=time.monotonic):
        self.transport = transport_from_config(config)
        self.interval = float(config["WEBHOOK_FEISHU_INTERVAL"] or 0)
        self.sleep, self.monotonic = sleep, monotonic
        self._last: dict[int, float] = {}

    def _pace(self, webhook: Webhook) -> None:
        if webhook.kind != "feishu" or not self.interval:
            return
        last = self._last.get(webhook.id)
        if last is not None:
            wait = self.interval - (self.monotonic() - last)
            if wait > 0:
                self.sleep(wait)
        self._last[webhook.id] = self.monotonic()

    def send(self, row: Notification, now: datetime) -> str:
        """Send the row's payload; returns the vendor's answer, raises DeliveryError / Deferred."""
        webhook = db.session.get(Webhook, row.webhook_id) if row.webhook_id else None
        if webhook is None or webhook.kind != row.channel:
            raise PermanentError("该群机器人已删除或已更换类型，消息无法发送")
        sent = db.session.execute(
            select(func.count()).select_from(Notification)
            .where(Notification.webhook_id == webhook.id, Notification.state == "sent",
                   Notification.sent_at > now - timedelta(seconds=60))
        ).scalar_one()
        budget = BUDGET[webhook.kind]
        if sent >= budget:
            raise Deferred(f"该机器人一分钟内已发送{sent}条（限额{VENDORS[webhook.kind].per_minute}条/分钟），稍后发送",
                           now + timedelta(seconds=60))
        try:
            payload = json.loads(row.body_text)
        except ValueError:
            raise PermanentError("消息内容损坏（不是 JSON）") from None
        self._pace(webhook)
        return self.transport.send(webhook.kind, webhook.url, webhook.secret, payload).short()
