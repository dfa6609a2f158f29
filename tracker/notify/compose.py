"""One composition of each message (SPEC 6.3): the unit reminder, the bureau digest, the urge (催办) and the
event notices are each written here, once, as a channel-neutral ``Message``: a title (the e-mail subject), a
greeting, an intro, facts (label, value), sections of entries, a closing line and a link. Every channel renders
that one Message: ``email.py`` (subject, text and HTML through ``templates/email/<kind>.*``) and ``render.py``
(the group robots' payloads). ``channels.queue_message`` puts it on every channel of its recipient.

Pure: no database, no request, no clock; the callers pass ``today`` and the base URL.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Optional

# The unit reminder's sections, in the order they are shown.
OVERDUE, DUE_SOON, REPORT = "overdue", "due_soon", "report"
UNIT_SECTIONS = ((OVERDUE, "逾期"), (DUE_SOON, "临期"), (REPORT, "本月进展待报送"))


@dataclass(frozen=True)
class MeasureLine:
    """A measure as an entry shows it: e-mails lay these out as table columns."""

    code: str
    title: str
    deadline_text: str
    note: str
    units: str = ""  # the lead units (the digest names them)


@dataclass
class Entry:
    text: str
    url: str = ""
    detail: str = ""
    measure: Optional[MeasureLine] = None


@dataclass
class Section:
    title: str
    entries: list[Entry] = field(default_factory=list)
    count: str = ""  # "3项": shown with the title
    key: str = ""  # what the section holds (new_overdue, missing …): e-mails lay some out as lists

    @property
    def heading(self) -> str:
        """``逾期（3项）``; a title that ends in a bracket takes the count inside it: ``…（无法发送提醒，2个）``."""
        if not self.count:
            return self.title
        if self.title.endswith("）"):
            return f"{self.title[:-1]}，{self.count}）"
        return f"{self.title}（{self.count}）"


@dataclass
class Message:
    title: str
    greeting: str = ""
    intro: str = ""
    sections: list[Section] = field(default_factory=list)
    closing: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    link_text: str = "查看"
    kind: str = ""  # unit_daily | bureau_digest | urge | event: the outbox kind and the e-mail layout
    day: Optional[date] = None  # the day the message speaks of

    def section(self, key: str) -> Optional[Section]:
        return next((s for s in self.sections if s.key == key), None)


# ------------------------------------------------------------------------------------ wording helpers

def task_url(base_url: str, task_id: int) -> str:
    return f"{(base_url or '').rstrip('/')}/tasks/{task_id}"


def overdue_note(deadline: date, today: date) -> str:
    return f"已逾期{(today - deadline).days}天"


def due_note(deadline: date, today: date) -> str:
    left = (deadline - today).days
    return "今日到期" if left == 0 else f"距完成时限还有{left}天"


def measure_entry(code: str, title: str, url: str, deadline_text: str, note: str, units: str = "") -> Entry:
    """A measure: "code title" → its page; robots show the deadline and the note under it."""
    line = MeasureLine(code, title, deadline_text, note, units)
    detail = "；".join(p for p in (f"完成时限：{deadline_text or '—'}", note) if p)
    return Entry(text=f"{code} {title}".strip(), url=url, detail=detail, measure=line)


def _entries(items) -> list[Entry]:
    """Reminder items (``notify.reminders.Item``) as entries."""
    return [measure_entry(i.code, i.title, i.url, i.deadline_text, i.note, i.units) for i in items]


def _measures(items, key: str, title: str) -> Section:
    return Section(title, _entries(items), count=f"{len(items)}项", key=key)


# ------------------------------------------------------------------------------------ reminders and digest

def _counted(parts) -> str:
    """``(label, count, unit)`` → ``label{count}unit`` joined with "，", leaving out zero counts."""
    return "，".join(f"{label}{count}{unit}" for label, count, unit in parts if count)


def unit_subject(unit_name: str, counts: dict[str, int]) -> str:
    n_over, n_soon, n_rep = (counts.get(key, 0) for key in (OVERDUE, DUE_SOON, REPORT))
    tag = "逾期提醒" if n_over else ("临期提醒" if n_soon else "报送提醒")
    return f"【{tag}】{unit_name}：" + _counted((("", n_over, "项任务已逾期"), ("", n_soon, "项任务临近完成时限"),
                                                ("", n_rep, "项任务待报送本月进展")))


def unit_daily(unit, today: date, items: dict[str, list]) -> Message:
    """The unit's daily reminder; ``items``: section key (OVERDUE, DUE_SOON, REPORT) → reminder items."""
    return Message(
        title=unit_subject(unit.name, {key: len(found) for key, found in items.items()}),
        greeting=f"{unit.full_name}联络员：",
        intro=f"截至 {today.isoformat()}，贵单位在行动计划督办台账中有以下事项需要关注：",
        sections=[_measures(items[key], key, title) for key, title in UNIT_SECTIONS if items.get(key)],
        closing="请登录系统及时报送进展或办理销号。",
        kind="unit_daily", day=today,
    )


def digest_subject(digest) -> str:
    return f"【督办日报】{digest.today.isoformat()}：" + _counted((
        ("新增逾期", len(digest.new_overdue), "项"), (f"逾期超{digest.escalation_days}天", len(digest.escalations), "项"),
        ("待审核", len(digest.pending), "项"), ("未报送", len(digest.missing), "个单位"),
        ("无联络邮箱", len(digest.no_email), "个单位"), ("发送失败邮件", len(digest.failed), "封")))


def bureau_digest(digest, base_url: str) -> Message:
    """The bureau's daily digest (``notify.reminders.Digest``)."""
    sections = [_measures(found, key, title) for key, title, found in (
        ("new_overdue", "新增逾期", digest.new_overdue),
        ("escalations", f"逾期超过{digest.escalation_days}天，建议升级督办", digest.escalations),
        ("pending", "待审核的销号申请", digest.pending)) if found]
    if digest.missing:
        sections.append(Section(f"{digest.period} 未报送进展的单位", [Entry(f"{name}：{n}项") for name, n in digest.missing],
                                count=f"{len(digest.missing)}个", key="missing"))
    if digest.no_email:
        sections.append(Section("未设置联络邮箱的单位（无法发送提醒）", [Entry(name) for name in digest.no_email],
                                count=f"{len(digest.no_email)}个", key="no_email"))
    if digest.failed:
        sections.append(Section("发送失败的邮件", [
            Entry(n.subject, f"{base_url}/outbox/{n.id}", f"→ {n.recipients}：{n.last_error}") for n in digest.failed],
            count=f"{len(digest.failed)}封", key="failed"))
    return Message(title=digest_subject(digest), intro=f"截至 {digest.today.isoformat()} 的督办情况：",
                   sections=sections, link=f"{base_url}/overdue", link_text="逾期清单", kind="bureau_digest",
                   day=digest.today)


# ------------------------------------------------------------------------------------ urge (催办)

def urge(unit, tasks, note: str, actor_name: str, today: date, base_url: str) -> Message:
    """The urge to one unit about ``tasks`` (``models.Task``, the effective deadline counts)."""
    late = [t for t in tasks if t.effective_deadline and t.effective_deadline < today]
    entries = [measure_entry(t.code, t.title, task_url(base_url, t.id), t.deadline_label,
                             overdue_note(t.effective_deadline, today) if t in late else "") for t in tasks]
    title = (f"【催办】{unit.name}：请尽快办理{len(tasks)}项逾期任务" if len(late) == len(tasks)
             else f"【催办】{unit.name}：请尽快推进{len(tasks)}项任务")
    return Message(
        title=title,
        greeting=f"{unit.full_name}联络员：",
        intro="区司法局督办提醒（催办）：以下事项已逾期或亟需推进，请尽快办理并在系统中报送进展。",
        facts=[("督办意见", note)] if note else [],
        sections=[Section("催办事项", entries, count=f"{len(tasks)}项", key="urged")],
        closing=f"催办人：{actor_name}（{today.isoformat()}）",
        kind="urge", day=today,
    )


# ------------------------------------------------------------------------------------ event notices

def _notice(subject: str, greeting: str, happened: str, next_step: str, url: str, facts) -> Message:
    return Message(title=subject, greeting=greeting, intro=happened, facts=facts, closing=next_step, link=url,
                   kind="event")


def _unit_notice(event: str, task, unit, comment: str, actor_name: str, ext, url: str) -> Message:
    """退回, 销号, extension decisions and deadline changes, to the unit."""
    name, short, to_unit = f"{task.code} {task.title}".strip(), task.title[:30], f"{unit.full_name}联络员："
    facts = [("具体工作举措", name), ("完成时限", task.deadline_label or "长期任务")]
    if event == "returned":
        return _notice(f"【退回】{unit.name}：“{short}”的销号申请被退回", to_unit,
                       f"区司法局退回了贵单位对“{name}”的销号申请，该举措回到“推进中”。",
                       "请按审核意见补充佐证材料或整改，在任务页面报送进展后重新申请销号（选择“待审核”）。",
                       url, facts + [("审核意见", comment or "—"), ("审核人", actor_name)])
    if event == "approved":
        return _notice(f"【已销号】{unit.name}：“{short}”审核通过", to_unit,
                       f"区司法局审核通过了贵单位对“{name}”的销号申请，该举措已完成（销号）。",
                       "该举措无需再按月报送进展；如有后续情况，请联系区司法局。",
                       url, facts + ([("审核意见", comment)] if comment else []) + [("审核人", actor_name)])
    new = ext.new_deadline.isoformat()
    if event == "deadline_changed":
        return _notice(f"【完成时限调整】{unit.name}：“{short}”完成时限调整为{new}", to_unit,
                       f"区司法局将“{name}”的完成时限调整为 {new}（原完成时限 {task.deadline_text or '—'}）。",
                       "请按新的完成时限推进并按月报送进展。", url,
                       [("具体工作举措", name), ("调整理由", ext.reason), ("调整人", actor_name)])
    facts = [("具体工作举措", name), ("原完成时限", task.deadline_text or "—"), ("申请延至", new),
             ("申请理由", ext.reason), ("审批意见", comment or "—"), ("审批人", actor_name)]
    if event == "extension_approved":
        return _notice(f"【延期已批准】{unit.name}：“{short}”完成时限延至{new}", to_unit,
                       f"区司法局批准了贵单位对“{name}”的延期申请，完成时限延至 {new}。",
                       f"请在 {new} 前完成并申请销号；预警和逾期按新的完成时限计算。", url, facts)
    current = task.effective_deadline.isoformat() if task.effective_deadline else "—"
    return _notice(f"【延期被驳回】{unit.name}：“{short}”仍按原完成时限", to_unit,
                   f"区司法局驳回了贵单位对“{name}”的延期申请，完成时限仍为 {current}。",
                   "请按现有完成时限推进并按月报送进展；如情况变化，可补充理由后重新申请延期。", url, facts)


def _bureau_notice(event: str, task, unit, actor_name: str, ext, base_url: str) -> Message:
    """New completion claims and extension requests, to the supervisors."""
    name, short, unit_name = f"{task.code} {task.title}".strip(), task.title[:30], unit.name if unit else ""
    if event == "claim":
        return _notice(f"【待审核】{unit_name}申请销号：“{short}”", "区司法局督办人员：",
                       f"{actor_name} 对“{name}”申请销号（待审核）。",
                       "请在“待审核”页面查看佐证材料，审核通过（销号）或退回并写明意见。", f"{base_url}/review",
                       [("具体工作举措", name), ("完成时限", task.deadline_label or "长期任务"),
                        ("最新进展", (task.latest_progress or "")[:300])])
    new = ext.new_deadline.isoformat()
    late = "（逾期申请：提出时已超过完成时限）" if ext.late else ""
    return _notice(f"【延期申请】{unit_name}：“{short}”申请延至{new}", "区司法局督办人员：",
                   f"{actor_name} 为“{name}”申请延期{late}。", "请在“延期申请”页面批准或驳回，并填写意见。",
                   f"{base_url}/extensions",
                   [("具体工作举措", name), ("当前完成时限", ext.old_deadline.isoformat() if ext.old_deadline else "—"),
                    ("申请延至", new), ("申请理由", ext.reason)])


UNIT_EVENTS = ("returned", "approved", "extension_approved", "extension_rejected", "deadline_changed")
BUREAU_EVENTS = ("claim", "extension_request")


def event_notice(event: str, task, *, unit=None, comment: str = "", actor_name: str = "", ext=None,
                 base_url: str = "") -> Message:
    """What just happened to a measure (``models.Task``), what to do next, and where."""
    base_url = (base_url or "").rstrip("/")
    if event in UNIT_EVENTS:
        return _unit_notice(event, task, unit, comment, actor_name, ext, task_url(base_url, task.id))
    if event in BUREAU_EVENTS:
        return _bureau_notice(event, task, unit, actor_name, ext, base_url)
    raise ValueError(f"unknown event {event}")


def check_message(owner_name: str, kind_label: str, today: date) -> Message:
    return Message(
        title="【测试消息】行动计划督办台账",
        intro=f"这是一条测试消息：{owner_name}的{kind_label}机器人已正确配置（{today.isoformat()}）。",
    )
