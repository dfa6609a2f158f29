"""``set-webhook`` / ``unset-webhook`` (SPEC 6.3): a unit's (or the bureau's) group robot from the command line.

A robot set this way gets every kind of message (reminders, urges, event notices, digest) until the
unit's settings page says otherwise. The secret is never echoed (only masked).
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..console import CommandError, fail_from, job_failed, parse_today
from ..errors import DomainError
from ..extensions import db
from .webhooks import KIND_LABELS, KINDS, mask, mask_url


def _fail(exc: DomainError):
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




@click.command("send-reminders")
@click.option("--today", "today_text", default=None, help="提醒日期 YYYY-MM-DD（默认今天）")
@click.option("--no-deliver", is_flag=True, help="只写入发件箱，不投递")
@with_appcontext
def send_reminders_command(today_text: str | None, no_deliver: bool) -> None:
    """Build the day's reminder emails and digest into the outbox, then deliver queued mail."""
    from ..models import utcnow
    from ..notify.reminders import send_reminders

    today = parse_today(today_text)
    try:
        result = send_reminders(today, utcnow(), deliver=not no_deliver)
    except Exception as exc:
        raise job_failed("发送提醒", exc) from None
    click.echo(str(result))
    if result.delivery is not None:
        for line in result.delivery.errors[:20]:
            click.echo(f"  - {line}", err=True)
    if result.errors:
        for line in result.errors:
            click.echo(f"  - {line}", err=True)
        raise CommandError(f"{len(result.errors)} 封邮件未能生成，详见上方说明")
