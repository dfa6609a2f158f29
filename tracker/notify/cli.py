"""``set-webhook`` / ``unset-webhook`` (SPEC 6.3): a unit's (or the bureau's) group robot from the command line.

A robot set this way gets every kind of message (reminders, urges, event notices, digest) until the
unit's settings page says otherwise. The secret is never echoed (only masked).
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..errors import DomainError
from ..extensions import db
from .webhooks import KIND_LABELS, KINDS, mask, mask_url


def _fail(exc: DomainError):
    from ..cli import fail_from

    db.session.rollback()
    return fail_from(exc)


@click.command("set-webhook")
@click.argument("unit_or_bureau")
@click.argument("kind")
@click.argument("url")
@click.option("--secret", default=None, help="签名密钥（钉钉、飞书必填；填 - 则从标准输入读取）")
@with_appcontext
def set_webhook_command(unit_or_bureau: str, kind: str, url: str, secret: str | None) -> None:
    """设置单位（或 bureau）的群机器人：KIND 为 wecom、dingtalk 或 feishu。"""
    from ..cli import CommandError
    from .channels import find_owner, save_webhook

    if kind not in KINDS:
        raise CommandError(f"机器人类型应为 {'、'.join(KINDS)} 之一（收到：{kind}）")
    if secret == "-":
        secret = click.get_text_stream("stdin").readline().strip()
    try:
        unit = find_owner(unit_or_bureau)
        webhook = save_webhook(None, unit, kind, url, secret)
    except DomainError as exc:
        raise _fail(exc) from None
    owner = unit.name if unit else "区司法局（bureau）"
    extra = f"，签名密钥 {mask(webhook.secret)}" if webhook.secret else ""
    click.echo(f"已设置{owner}的{KIND_LABELS[kind]}机器人：{mask_url(webhook.url)}{extra}（接收全部类别的消息）")


@click.command("unset-webhook")
@click.argument("unit_or_bureau")
@click.argument("kind")
@with_appcontext
def unset_webhook_command(unit_or_bureau: str, kind: str) -> None:
    """删除单位（或 bureau）的群机器人。"""
    from ..cli import CommandError
    from .channels import find_owner, remove_webhook

    if kind not in KINDS:
        raise CommandError(f"机器人类型应为 {'、'.join(KINDS)} 之一（收到：{kind}）")
    try:
        unit = find_owner(unit_or_bureau)
    except DomainError as exc:
        raise _fail(exc) from None
    owner = unit.name if unit else "区司法局（bureau）"
    if not remove_webhook(None, unit, kind):
        raise CommandError(f"{owner}没有设置{KIND_LABELS[kind]}机器人")
    click.echo(f"已删除{owner}的{KIND_LABELS[kind]}机器人")


COMMANDS = [set_webhook_command, unset_webhook_command]
