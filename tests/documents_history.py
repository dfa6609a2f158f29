"""A hand-built plan and a scripted first quarter of 2024, written through the real use cases.

Units A–D (甲乙丙丁局) lead six measures under two first-level tasks:

- m1 (甲局, due 2024-03-31): reports Jan 10, Feb 20, claims Mar 20, approved Mar 22 — on time.
- m2 (甲局, due 2024-02-29): report Jan 26 (late), none in Feb, claims Mar 10, returned Mar 12,
  claims again Mar 15, approved Mar 18 — completed late, one return.
- m3 (乙局, due 2024-02-15): one report Jan 5, then silence — overdue 45 days on Mar 31.
- m4 (乙局, ongoing): reports Jan 20, Feb 20, Mar 20 (the same text each month, numbers aside).
- m5 (丙局, due 2024-12-31, 甲局 co-operates): reports Jan 24, Feb 24, Mar 24.
- m6 (丁局, due 2024-06-30): claimed 2023-12-28 and awaiting review all quarter — nothing due.
"""
from __future__ import annotations

from datetime import date
from typing import Callable, Optional

from tracker.accounts.users import create_user
from tracker.extensions import db
from tracker.models import CO, LEAD, Plan, Task, TaskUnit, Unit, User
from tracker.reporting.progress import record_update
from tracker.reporting.review import review_task

UNITS = [("天津市宝坻区甲局", "甲局", "区直部门"), ("天津市宝坻区乙局", "乙局", "区直部门"),
         ("宝坻区丙镇", "丙镇", "街镇"), ("天津市宝坻区丁局", "丁局", "区直部门")]
MEASURES = {  # key: (root index, code, title, lead, co, deadline, deadline text)
    "m1": (0, "1", "制定行政执法工作方案", "甲局", None, date(2024, 3, 31), "2024年3月底前"),
    "m2": (0, "2", "开展执法案卷评查", "甲局", None, date(2024, 2, 29), "2024年2月底前"),
    "m3": (0, "3", "清理执法证件", "乙局", None, date(2024, 2, 15), "2024年2月15日前"),
    "m4": (1, "4", "开展联合执法检查", "乙局", None, None, "长期坚持"),
    "m5": (1, "5", "推进街镇综合执法", "丙镇", "甲局", date(2024, 12, 31), "2024年底前"),
    "m6": (1, "6", "建立执法监督联系点", "丁局", None, date(2024, 6, 30), "2024年6月底前"),
}
PLAN_TITLE = "甲区执法质量提升行动实施方案"
LOGINS = {"甲局": "u_jia", "乙局": "u_yi", "丙镇": "u_bing", "丁局": "u_ding"}


def build_plan() -> dict[str, int]:
    units = {}
    for full, short, kind in UNITS:
        unit = Unit(full_name=full, short_name=short, kind=kind, emails=f"{short}@example.cn")
        db.session.add(unit)
        units[short] = unit
    plan = Plan(title=PLAN_TITLE, issuer="甲区人民政府", start_date=date(2023, 12, 1), end_date=date(2025, 12, 31))
    db.session.add(plan)
    roots = []
    for i, text in enumerate(["健全执法制度体系", "加强执法协调监督"]):
        root = Task(plan=plan, level=1, position=i, code="一二"[i], title=text, is_leaf=False)
        second = Task(plan=plan, parent=root, level=2, position=0, code="（一）", title=text + "重点工作", is_leaf=False)
        db.session.add_all([root, second])
        roots.append(second)
    ids = {}
    for n, (key, (root, code, title, lead, co, deadline, text)) in enumerate(MEASURES.items()):
        task = Task(plan=plan, parent=roots[root], level=3, position=n, code=code, title=title, is_leaf=True,
                    deadline=deadline, deadline_text=text)
        task.unit_links = [TaskUnit(unit=units[lead], role=LEAD, position=0)]
        if co:
            task.unit_links.append(TaskUnit(unit=units[co], role=CO, position=1))
        db.session.add(task)
        ids[key] = task
    for _full, short, _kind in UNITS:
        create_user(LOGINS[short], "unit", "demo12345", unit=short)
    create_user("boss", "supervisor", "demo12345")
    create_user("watcher", "viewer", "demo12345")
    db.session.commit()
    return {key: task.id for key, task in ids.items()}


def _user(name: str) -> User:
    return db.session.execute(db.select(User).where(User.username == name)).scalar_one()


def report(task_id: int, unit: str, day: date, status: str = "in_progress", progress: int = 50, narrative: str = "",
           problems: str = "", next_steps: str = "") -> None:
    task = db.session.get(Task, task_id)
    record_update(task_id, _user(LOGINS[unit]), {
        "status": status, "progress": progress, "narrative": narrative or f"推进{task.title}", "problems": problems,
        "next_steps": next_steps, "version": task.version}, day)


def review(task_id: int, decision: str, day: date, comment: str = "") -> None:
    review_task(task_id, _user("boss"), {"decision": decision, "comment": comment or "请补充材料"}, day)


def script(ids: dict[str, int]) -> list[tuple[date, Callable[[], None]]]:
    """The quarter's events in date order."""
    d = date
    m1, m2, m3, m4, m5, m6 = (ids[k] for k in ("m1", "m2", "m3", "m4", "m5", "m6"))
    same = "已开展执法检查，检查企业{}家，完成进度{}%"
    return [
        (d(2023, 12, 28), lambda: report(m6, "丁局", d(2023, 12, 28), "pending_review", 100, "联系点已建立")),
        (d(2024, 1, 5), lambda: report(m3, "乙局", d(2024, 1, 5), narrative="已启动证件清理",
                                       problems="人员信息不全", next_steps="核对人员名单")),
        (d(2024, 1, 10), lambda: report(m1, "甲局", d(2024, 1, 10), narrative="起草工作方案初稿",
                                        problems="基层执法力量不足。", next_steps="征求意见")),
        (d(2024, 1, 20), lambda: report(m4, "乙局", d(2024, 1, 20), narrative=same.format(12, 20))),
        (d(2024, 1, 24), lambda: report(m5, "丙镇", d(2024, 1, 24), narrative="梳理综合执法事项清单")),
        (d(2024, 1, 26), lambda: report(m2, "甲局", d(2024, 1, 26), narrative="制定评查方案",
                                        problems="基层执法力量不足", next_steps="组织评查")),
        (d(2024, 2, 20), lambda: report(m1, "甲局", d(2024, 2, 20), narrative="完成工作方案征求意见")),
        (d(2024, 2, 20), lambda: report(m4, "乙局", d(2024, 2, 20), narrative=same.format(30, 45))),
        (d(2024, 2, 24), lambda: report(m5, "丙镇", d(2024, 2, 24), narrative="梳理综合执法事项清单，已完成初稿",
                                        next_steps="报区政府审定")),
        (d(2024, 3, 10), lambda: report(m2, "甲局", d(2024, 3, 10), "pending_review", 100, "完成案卷评查")),
        (d(2024, 3, 12), lambda: review(m2, "return", d(2024, 3, 12), "缺少评查报告")),
        (d(2024, 3, 15), lambda: report(m2, "甲局", d(2024, 3, 15), "pending_review", 100, "补充评查报告")),
        (d(2024, 3, 18), lambda: review(m2, "approve", d(2024, 3, 18))),
        (d(2024, 3, 20), lambda: report(m1, "甲局", d(2024, 3, 20), "pending_review", 100, "印发工作方案")),
        (d(2024, 3, 20), lambda: report(m4, "乙局", d(2024, 3, 20), narrative=same.format(41, 60),
                                        next_steps="继续开展联合检查")),
        (d(2024, 3, 22), lambda: review(m1, "approve", d(2024, 3, 22))),
        (d(2024, 3, 24), lambda: report(m5, "丙镇", d(2024, 3, 24), narrative="综合执法事项清单报审",
                                        next_steps="报区政府审定")),
    ]


def run(ids: dict[str, int], until: Optional[date] = None, on_day: Optional[Callable[[date], None]] = None) -> None:
    """Play the script; ``on_day(day)`` is called after each month end is passed (for snapshots)."""
    month_ends = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
    for day, action in script(ids):
        while on_day and month_ends and month_ends[0] < day:
            on_day(month_ends.pop(0))
        if until and day > until:
            return
        action()
    while on_day and month_ends:
        on_day(month_ends.pop(0))
