"""One composition of each message, channel-neutral (SPEC 6.3): a title, a greeting, sections of
entries (text, link, detail) and a closing line. ``render.py`` turns it into each vendor's format;
email keeps its templates (``templates/email/``), fed from the same reminder/digest/urge objects.

Other messages (event notices) compose a ``Message`` the same way and hand it to
``tracker.notify.channels.fan_out``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Entry:
    text: str
    url: str = ""
    detail: str = ""


@dataclass
class Section:
    title: str
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Message:
    title: str
    greeting: str = ""
    intro: str = ""
    sections: list[Section] = field(default_factory=list)
    closing: str = ""


def _entries(items) -> list[Entry]:
    """Reminder items (``notify.reminders.Item``) as entries: "code title" → task page."""
    return [Entry(text=f"{i.code} {i.title}".strip(), url=i.url,
                  detail="；".join(p for p in (f"完成时限：{i.deadline_text or '—'}", i.note) if p))
            for i in items]


def unit_daily(mail, subject: str, today: date, sections) -> Message:
    """The unit's daily reminder (``sections``: [(title, items)])."""
    return Message(
        title=subject,
        greeting=f"{mail.unit.full_name}联络员：",
        intro=f"截至 {today.isoformat()}，贵单位在行动计划督办台账中有以下事项需要关注：",
        sections=[Section(f"{title}（{len(items)}项）", _entries(items)) for title, items in sections if items],
        closing="请登录系统及时报送进展或办理销号。",
    )


def bureau_digest(digest, base_url: str) -> Message:
    sections = []
    if digest.new_overdue:
        sections.append(Section(f"新增逾期（{len(digest.new_overdue)}项）", _entries(digest.new_overdue)))
    if digest.escalations:
        sections.append(Section(f"逾期超过{digest.escalation_days}天·升级督办（{len(digest.escalations)}项）",
                                _entries(digest.escalations)))
    if digest.pending:
        sections.append(Section(f"待审核销号（{len(digest.pending)}项）", _entries(digest.pending)))
    if digest.missing:
        sections.append(Section(f"{digest.period}进展未报送单位（{len(digest.missing)}个）",
                                [Entry(f"{name}：{count}项") for name, count in digest.missing]))
    if digest.no_email:
        sections.append(Section(f"未设置联络邮箱的单位（{len(digest.no_email)}个）",
                                [Entry(name) for name in digest.no_email]))
    if digest.failed:
        sections.append(Section(f"发送失败的消息（{len(digest.failed)}条）",
                                [Entry(n.subject, f"{base_url}/outbox/{n.id}") for n in digest.failed]))
    return Message(title=digest.subject, intro=f"截至 {digest.today.isoformat()} 的督办情况：",
                   sections=sections, closing=f"逾期清单：{base_url}/overdue")


def urge(unit, items, note: str, actor_name: str, subject: str, today: date) -> Message:
    return Message(
        title=subject,
        greeting=f"{unit.full_name}联络员：",
        intro=f"区司法局（{actor_name}）于 {today.isoformat()} 对以下事项进行催办" + (f"：{note}" if note else "。"),
        sections=[Section(f"催办事项（{len(items)}项）", _entries(items))],
        closing="请抓紧办理，并及时在系统中报送进展。",
    )


def check_message(owner_name: str, kind_label: str, today: date) -> Message:
    return Message(
        title="【测试消息】行动计划督办台账",
        intro=f"这是一条测试消息：{owner_name}的{kind_label}机器人已正确配置（{today.isoformat()}）。",
    )
