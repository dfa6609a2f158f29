"""Channels (SPEC 6.3): one composed message goes to every channel of its recipient (``queue_message``): the
e-mail (``email.py``) and each group robot (per unit, and the bureau) that takes the message's rule; plus the
robots' settings. One outbox row per (recipient, channel, rule, date, part).

Dedupe keys: a webhook row's key is the email key of the same message plus the channel
(``unit:5:daily:2024-07-01:wecom``); parts 2… of a split message add ``:2``, ``:3`` …. Part 1 is inserted
first and the others only if it was new, so a rerun (or a second process) adds no part, even if the data
changed in between and the message would now split differently.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Optional

from flask import current_app
from jinja2 import TemplateError
from sqlalchemy import select

from .. import audit
from ..errors import Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import Unit, User, Webhook, utcnow
from ..rules.roles import ADMIN, UNIT
from . import email
from .compose import Message, check_message
from .outbox import enqueue
from .render import render_parts
from .transport import DeliveryError
from .webhooks import KIND_LABELS, KINDS, mask, mask_url, parse_allow_hosts, transport_from_config, validate_url

log = logging.getLogger(__name__)

BUREAU = "bureau"
RULES = ("reminders", "urges", "events", "digest")
RULE_LABELS = {"reminders": "提醒", "urges": "催办", "events": "事件通知", "digest": "督办日报"}


def owner_key(unit_id: Optional[int]) -> str:
    return BUREAU if unit_id is None else f"unit:{unit_id}"


def owner_name(webhook: Webhook) -> str:
    return "区司法局（督办）" if webhook.unit_id is None else (webhook.unit.name if webhook.unit else "（已删除单位）")


def webhook_label(webhook: Webhook) -> str:
    """What the outbox shows as the recipient: who and which robot, never the URL."""
    return f"{KIND_LABELS.get(webhook.kind, webhook.kind)}群机器人·{owner_name(webhook)}"


def webhooks_for(unit_id: Optional[int], rule: str) -> list[Webhook]:
    column = getattr(Webhook, f"send_{rule}")
    return list(db.session.execute(
        select(Webhook).where(Webhook.owner == owner_key(unit_id), column.is_(True)).order_by(Webhook.kind)
    ).scalars())


def webhooks_by_owner() -> dict[str, list[Webhook]]:
    """Every robot, by owner key (one statement, for the daily sweep)."""
    grouped: dict[str, list[Webhook]] = {}
    for webhook in db.session.execute(select(Webhook).order_by(Webhook.kind)).scalars():
        grouped.setdefault(webhook.owner, []).append(webhook)
    return grouped


def targets(grouped: dict[str, list[Webhook]], unit_id: Optional[int], rule: str) -> list[Webhook]:
    return [w for w in grouped.get(owner_key(unit_id), []) if getattr(w, f"send_{rule}")]


def fan_out(*, key: str, unit_id: Optional[int], rule: str, kind: str, message: Message,
            webhooks: Optional[list[Webhook]] = None) -> int:
    """Queue ``message`` on every robot of the unit (None: the bureau) that takes ``rule``
    (or on ``webhooks`` when the caller has them already).

    Runs in the caller's transaction; returns the number of rows inserted.
    """
    inserted = 0
    for webhook in webhooks_for(unit_id, rule) if webhooks is None else webhooks:
        parts = render_parts(webhook.kind, message)
        label = webhook_label(webhook)
        for number, payload in enumerate(parts, 1):
            part_key = f"{key}:{webhook.kind}" + (f":{number}" if number > 1 else "")
            title = payload_title(webhook.kind, payload)
            new = enqueue(dedupe_key=part_key, recipients=[label], subject=title,
                          body_text=json.dumps(payload, ensure_ascii=False), kind=kind, unit_id=unit_id,
                          channel=webhook.kind, webhook_id=webhook.id)
            if not new and number == 1:
                break  # this message is already queued on this robot: add no part
            inserted += int(new)
    return inserted


@dataclass
class Queued:
    """What ``queue_message`` added: the e-mail (True new, False queued already, None none: no address or
    ``error``, the e-mail template failing) and the robot rows (parts counted)."""

    email: Optional[bool] = None
    robots: int = 0
    error: str = ""

    @property
    def new(self) -> bool:
        return bool(self.email) or self.robots > 0


def queue_message(message: Message, *, key: str, emails: list[str], unit_id: Optional[int], rule: str,
                  webhooks: Optional[list[Webhook]] = None) -> Queued:
    """Queue one composed message on every channel of the unit (None: the bureau): an e-mail to ``emails``
    when there are any, and each robot that takes ``rule`` (or ``webhooks`` when the caller has them).

    The caller's transaction; a broken e-mail template is reported in ``error`` and the robots still get it.
    """
    queued = Queued()
    if emails:
        try:
            queued.email = email.queue(message, key=key, recipients=emails, unit_id=unit_id)
        except TemplateError as exc:
            queued.error = str(exc)
    queued.robots = fan_out(key=key, unit_id=unit_id, rule=rule, kind=message.kind, message=message,
                            webhooks=webhooks)
    return queued


def payload_title(kind: str, payload: dict) -> str:
    if kind == "feishu":
        return payload["content"]["post"]["zh_cn"]["title"]
    if kind == "dingtalk":
        return payload["markdown"]["title"]
    return payload["markdown"]["content"].split("\n", 1)[0].lstrip("# ")


# ------------------------------------------------------------------------------------ settings

@dataclass
class WebhookView:
    """What pages and the CLI may show: masked URL and secret."""

    id: int
    kind: str
    label: str
    url: str
    secret: str
    rules: dict[str, bool]


def view(webhook: Webhook) -> WebhookView:
    return WebhookView(id=webhook.id, kind=webhook.kind, label=KIND_LABELS[webhook.kind], url=mask_url(webhook.url),
                       secret=(mask(webhook.secret) + "（已设置）") if webhook.secret else "",
                       rules={r: bool(getattr(webhook, f"send_{r}")) for r in RULES})


def list_webhooks(unit_id: Optional[int]) -> dict[str, Webhook]:
    rows = db.session.execute(select(Webhook).where(Webhook.owner == owner_key(unit_id))).scalars()
    return {w.kind: w for w in rows}


def find_owner(name: str) -> Optional[Unit]:
    """``bureau`` → None; a unit's full or short name → the unit; NotFound otherwise."""
    name = (name or "").strip()
    if name.lower() == BUREAU:
        return None
    unit = db.session.execute(
        select(Unit).where((Unit.full_name == name) | (Unit.short_name == name))).scalars().first()
    if unit is None:
        raise NotFound(f"未找到单位“{name}”（可填单位全称、简称或 bureau）")
    return unit


def allow_hosts():
    return parse_allow_hosts(current_app.config.get("WEBHOOK_ALLOW_HOSTS"))


def save_webhook(actor: Optional[User], unit: Optional[Unit], kind: str, url: Optional[str], secret: Optional[str],
                 rules: Optional[dict[str, bool]] = None) -> Webhook:
    """Create or update the unit's (None: the bureau's) robot of ``kind``; ``url`` / ``secret`` None keep
    the stored ones.

    Raises Invalid with field errors (url, secret, kind); one commit, audited (masked).
    """
    if kind not in KINDS:
        raise Invalid({"kind": ["机器人类型应为 wecom、dingtalk 或 feishu"]})
    errors: dict[str, list[str]] = {}
    unit_id = unit.id if unit else None
    webhook = list_webhooks(unit_id).get(kind)
    if url is None and webhook is not None:
        url = webhook.url  # the page never shows the stored URL (it holds the credential): blank keeps it
    try:
        url = validate_url(kind, url or "", allow_hosts())
    except ValueError as exc:
        errors["url"] = [str(exc)]
    secret = secret.strip() if secret is not None else None
    if kind == "wecom" and secret:
        errors["secret"] = ["企业微信群机器人没有签名密钥（地址中的 key 即凭证），请留空"]
    elif kind != "wecom":
        effective = secret if secret else (webhook.secret if webhook else "")
        if not effective:
            errors["secret"] = [f"{KIND_LABELS[kind]}机器人须启用“加签/签名校验”，请填写签名密钥"]
        elif len(effective) > 200 or any(ch.isspace() for ch in effective):
            errors["secret"] = ["签名密钥格式不正确"]
    if errors:
        raise Invalid(errors)
    created = webhook is None
    if created:
        webhook = Webhook(owner=owner_key(unit_id), unit_id=unit_id, kind=kind, secret="", created_at=utcnow())
        db.session.add(webhook)
    webhook.url = url
    if secret:
        webhook.secret = secret
    if kind == "wecom":
        webhook.secret = ""
    for rule in RULES:
        setattr(webhook, f"send_{rule}", True if rules is None else bool(rules.get(rule)))
    webhook.updated_at = utcnow()
    db.session.flush()
    chosen = "、".join(RULE_LABELS[r] for r in RULES if getattr(webhook, f"send_{r}")) or "无"
    audit.record("webhook_set", actor, target_type="webhook", target_id=webhook.id,
                 detail=f"{webhook_label(webhook)}：{mask_url(url)}；发送：{chosen}")
    db.session.commit()
    return webhook


def remove_webhook(actor: Optional[User], unit: Optional[Unit], kind: str) -> bool:
    webhook = list_webhooks(unit.id if unit else None).get(kind)
    if webhook is None:
        return False
    label = webhook_label(webhook)
    audit.record("webhook_unset", actor, target_type="webhook", target_id=webhook.id, detail=label)
    db.session.delete(webhook)
    db.session.commit()
    return True


def may_test(actor: User, unit_id: Optional[int]) -> bool:
    if actor.role == ADMIN:
        return True
    return unit_id is not None and actor.role == UNIT and actor.unit_id == unit_id


def send_check(actor: User, unit: Optional[Unit], kind: str, today: date, transport=None) -> str:
    """"发送测试消息": one message straight to the robot; the vendor's answer (or the error) is returned."""
    unit_id = unit.id if unit else None
    if not may_test(actor, unit_id):
        raise Forbidden("只有系统管理员或本单位联络员可以发送测试消息")
    webhook = list_webhooks(unit_id).get(kind)
    if webhook is None:
        raise NotFound("尚未设置该机器人")
    transport = transport or transport_from_config(current_app.config)
    payload = render_parts(kind, check_message(owner_name(webhook), KIND_LABELS[kind], today))[0]
    try:
        answer = transport.send(kind, webhook.url, webhook.secret, payload)
        outcome, ok = f"发送成功，{KIND_LABELS[kind]}返回：{answer.short()}", True
    except DeliveryError as exc:
        outcome, ok = f"发送失败：{exc}", False
    audit.record("webhook_test", actor, target_type="webhook", target_id=webhook.id,
                 detail=f"{webhook_label(webhook)}：{'成功' if ok else '失败'}")
    db.session.commit()
    if not ok:
        raise Invalid({"_": [outcome]})
    return outcome
