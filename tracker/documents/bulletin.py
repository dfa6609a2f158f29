"""Monthly bulletin (工作通报) as .docx: number, date, summary, ranking, overdue and 未报送 lists,
units named by fixed rules, and the score chart."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..models import BulletinIssue
from . import docxkit as dk
from .assessment import Assessment, UnitFigures
from .charts import score_png
from .common import change, cn_date, lead_names, path_codes
from .periods import Period

GOOD_MIN_SCORE, LAGGING_MAX_SCORE, MAX_NAMED = 90.0, 80.0, 5
GOOD_RULE = (f"表扬：本月得分不低于{GOOD_MIN_SCORE:g}分、无逾期事项、无未报送举措且本月有应报送事项的单位"
             f"（按名次，至多{MAX_NAMED}个）")
LAGGING_RULE = (f"通报：有逾期事项或未报送举措且本月得分低于{LAGGING_MAX_SCORE:g}分的单位"
                f"（按得分由低到高，至多{MAX_NAMED}个）")


def issue_number(plan_id: int, period: Period, actor=None) -> int:
    """第N期: the stored number of this month's bulletin, or the next number of the year (one commit)."""
    year, month = period.start.year, period.start.month
    for _attempt in range(3):
        found = db.session.execute(select(BulletinIssue.number).where(
            BulletinIssue.plan_id == plan_id, BulletinIssue.year == year, BulletinIssue.month == month)
        ).scalar_one_or_none()
        if found is not None:
            return found
        number = (db.session.scalar(select(func.max(BulletinIssue.number)).where(
            BulletinIssue.plan_id == plan_id, BulletinIssue.year == year)) or 0) + 1
        db.session.add(BulletinIssue(plan_id=plan_id, year=year, month=month, number=number,
                                     created_by_id=getattr(actor, "id", None)))
        audit.record("bulletin_number", actor, username="" if actor else "system", target_type="plan",
                     target_id=plan_id, detail=f"{period.title}工作通报编号：{year}年第{number}期")
        try:
            db.session.commit()
            return number
        except IntegrityError:  # another process numbered a bulletin at the same time
            db.session.rollback()
    raise RuntimeError("bulletin numbering kept colliding")


def good_units(rows: list[UnitFigures]) -> list[UnitFigures]:
    return [r for r in rows if r.score >= GOOD_MIN_SCORE and not r.overdue and not r.reports_missing
            and r.reports_due][:MAX_NAMED]


def lagging_units(rows: list[UnitFigures]) -> list[UnitFigures]:
    chosen = [r for r in rows if (r.overdue or r.reports_missing) and r.score < LAGGING_MAX_SCORE]
    return sorted(chosen, key=lambda r: (r.score, r.unit_id))[:MAX_NAMED]


@dataclass
class BulletinInput:
    plan_title: str
    issuer: str
    number: int
    issued_on: date
    current: Assessment
    previous: Assessment
    tasks: list


def summary(b: BulletinInput) -> str:
    cur, prev = b.current, b.previous
    due = sum(r.reports_due for r in cur.units)
    on_time = sum(r.reports_on_time for r in cur.units)
    missing_units = [r for r in cur.units if r.reports_missing]
    return (f"截至{cn_date(cur.asof)}，{b.plan_title}共有具体工作举措{cur.measures}项，已完成{cur.done_total}项，"
            f"总体完成率{dk.percent(cur.done_rate)}。{cur.period.title}完成（销号）{cur.completed}项，其中按期完成"
            f"{cur.completed_on_time}项。目前逾期{len(cur.overdue)}项，较上月末（{len(prev.overdue)}项）"
            f"{change(len(cur.overdue), len(prev.overdue))}。本月应报送进展{due}项次，按时报送{on_time}项次，"
            f"{len(missing_units)}个单位{sum(r.reports_missing for r in missing_units)}项次未报送。")


def build_bulletin(b: BulletinInput, progress: Optional[Callable[[str], None]] = None) -> bytes:
    say = progress or (lambda _s: None)
    cur = b.current
    by_id = {t.id: t for t in b.tasks}
    codes = path_codes(b.tasks)
    doc = dk.new_document()
    dk.title(doc, "工作通报")
    dk.centered(doc, f"{cur.period.start.year}年第{b.number}期")
    dk.centered(doc, f"{b.issuer}　　　　　　{cn_date(b.issued_on)}")
    dk.centered(doc, f"关于{cur.period.title}{b.plan_title}任务落实情况的通报", dk.XIAOBIAOSONG, 18)
    dk.heading(doc, "一、总体情况")
    dk.body(doc, summary(b))
    say("排名与图表")
    dk.heading(doc, "二、各单位排名")
    dk.body(doc, "按本月考核得分排名如下（" + cur.weights.formula() + "）。")
    dk.table(doc, ["名次", "单位", "牵头举措", "本月完成", "按期完成", "逾期", "逾期天数", "应报", "按时报送", "未报送",
                   "退回", "得分"],
             [[r.rank, r.unit, r.measures, r.completed, r.completed_on_time, r.overdue, r.overdue_days,
               r.reports_due, r.reports_on_time, r.reports_missing, r.returns, f"{r.score:g}"] for r in cur.units])
    dk.picture(doc, score_png([(r.unit, r.score) for r in cur.units], f"{cur.period.title}各单位考核得分"))
    say("逾期与未报送清单")
    dk.heading(doc, "三、逾期事项")
    overdue = sorted(cur.overdue, key=lambda r: (-r.overdue_days, r.task_id))
    if overdue:
        dk.body(doc, f"截至{cn_date(cur.asof)}，共有{len(overdue)}项具体工作举措逾期未完成：")
        dk.table(doc, ["序号", "具体工作举措", "牵头单位", "完成时限", "逾期天数"],
                 [[i + 1, f"{codes[r.task_id]} {by_id[r.task_id].title}", "、".join(lead_names(by_id[r.task_id])),
                   by_id[r.task_id].deadline_text, r.overdue_days] for i, r in enumerate(overdue)])
    else:
        dk.body(doc, f"截至{cn_date(cur.asof)}，没有逾期未完成的具体工作举措。")
    dk.heading(doc, "四、未报送情况")
    missing = [r for r in cur.units if r.reports_missing]
    if missing:
        dk.body(doc, f"{cur.period.title}共有{len(missing)}个单位未按要求报送进展：")
        month, missing_of = cur.period.label, {}
        for i in cur.items.values():
            if month in i.missing_months:
                for unit_id in i.lead_ids:
                    missing_of.setdefault(unit_id, []).append(by_id[i.task_id])
        rows = []
        for r in sorted(missing, key=lambda r: (-r.reports_missing, r.unit_id)):
            tasks = missing_of.get(r.unit_id, [])
            rows.append([r.unit, r.reports_missing, "；".join(f"{codes[t.id]} {t.title[:30]}" for t in tasks)])
        dk.table(doc, ["单位", "未报送项数", "未报送的具体工作举措"], rows)
    else:
        dk.body(doc, f"{cur.period.title}各单位均已报送进展。")
    dk.heading(doc, "五、表扬与通报")
    good, lagging = good_units(cur.units), lagging_units(cur.units)
    dk.body(doc, GOOD_RULE + "。" + ("本月予以表扬的单位：" + "、".join(f"{r.unit}（{r.score:g}分）" for r in good) + "。"
                                   if good else "本月无符合表扬条件的单位。"))
    dk.body(doc, LAGGING_RULE + "。" + ("本月予以通报的单位：" + "、".join(
        f"{r.unit}（{r.score:g}分，逾期{r.overdue}项、未报送{r.reports_missing}项次）" for r in lagging) + "。"
        if lagging else "本月无符合通报条件的单位。"))
    dk.body(doc, "请被通报单位对照逾期事项和未报送清单抓紧整改，并在下月报送中说明整改情况。")
    return dk.to_bytes(doc)
