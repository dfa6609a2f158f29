"""Replay a week of the bureau's work and count the emails it sends (issue 11).

A fresh SQLite database with the reference plan and its demo history up to the start
day; then, day by day, what liaisons and supervisors do (claims, returns, 销号,
extension requests and decisions, a direct deadline change) through the same service
functions as the web pages and the API, each with that day as ``today``, followed by
the daily sweep (``check-overdue`` + ``send-reminders --today DAY``). Mail goes to
``.eml`` files. Prints the emails per day and kind; exit 0.

    .venv/bin/python bench/replay_week.py [--start 2024-07-01] [--days 7]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TRACKER_ENV", "development")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2024-07-01")
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    start = date.fromisoformat(args.start)
    folder = Path(tempfile.mkdtemp(prefix="replay-week-"))
    os.environ["TRACKER_INSTANCE_PATH"] = str(folder / "instance")
    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'week.db'}", "MAIL_SERVER": "",
                      "MAIL_FILE_FOLDER": str(folder / "mail"), "TESTING": True, "SECRET_KEY": "replay"})
    with app.app_context():
        db.create_all()
        from tracker.operations.seed import seed
        from tracker.plans import demo

        seed()
        demo.generate(start - timedelta(days=1))
        table = [replay_day(start + timedelta(days=i), i) for i in range(args.days)]
    kinds = sorted({k for _day, counts, _ in table for k in counts})
    print("| day | actions | " + " | ".join(kinds) + " | total |")
    print("|---|---|" + "---:|" * (len(kinds) + 1))
    total = Counter()
    for day, counts, actions in table:
        total.update(counts)
        print(f"| {day} | {actions} | " + " | ".join(str(counts.get(k, 0)) for k in kinds)
              + f" | {sum(counts.values())} |")
    print("| week | | " + " | ".join(str(total.get(k, 0)) for k in kinds) + f" | {sum(total.values())} |")
    files = list((folder / "mail").glob("*.eml"))
    print(f"\n.eml files written: {len(files)} (in {folder / 'mail'})")
    return 0


def _pick(unit_short: str, *, status=None, overdue_on: date | None = None, dated: bool = True, skip=()):
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import LEAD, Task, TaskUnit, Unit

    unit = db.session.execute(select(Unit).where(Unit.short_name == unit_short)).scalar_one()
    q = (select(Task).join(TaskUnit).where(TaskUnit.unit_id == unit.id, TaskUnit.role == LEAD,
                                           Task.is_leaf.is_(True), Task.status != "done").order_by(Task.id))
    for task in db.session.execute(q).scalars():
        if task.id in skip or (status and task.status != status):
            continue
        if dated and task.effective_deadline is None:
            continue
        if overdue_on is not None and not (task.effective_deadline and task.effective_deadline < overdue_on):
            continue
        if task.status == "pending_review":
            continue
        return task
    raise SystemExit(f"no measure for {unit_short}")


PICKED: dict[str, int] = {}
LIAISONS = {"区交通局": "jtj", "区司法局": "sfj", "区市场监管局": "scjgj", "大口屯镇": "dktz"}


def _pick_any(**kwargs):
    for unit, username in LIAISONS.items():
        try:
            return _pick(unit, **kwargs), username
        except SystemExit:
            continue
    raise SystemExit("no measure for the demo liaisons")


def replay_day(day: date, index: int):
    """One day's actions, then the daily sweep; returns (day, emails by kind, actions)."""
    from sqlalchemy import select

    from tracker.accounts.users import get_user_by_name
    from tracker.extensions import db
    from tracker.models import Notification
    from tracker.notify.reminders import send_reminders
    from tracker.reporting.extensions import decide_extension, request_extension, set_deadline
    from tracker.reporting.progress import record_update
    from tracker.reporting.review import review_task
    from tracker.supervision.overdue import check_overdue

    before = db.session.scalar(select(db.func.max(Notification.id))) or 0
    bureau = get_user_by_name("dubanke")
    actions = []

    def claim(username: str, key: str, unit: str):
        task = db.session.get(__import__("tracker.models", fromlist=["Task"]).Task, PICKED[key]) if key in PICKED \
            else _pick(unit, skip=set(PICKED.values()))
        PICKED[key] = task.id
        record_update(task.id, get_user_by_name(username), {"status": "pending_review", "progress": 100,
                      "narrative": "已完成，附佐证材料", "version": task.version}, day)
        actions.append(f"{unit}申请销号")

    if index == 0:
        claim("jtj", "A", "区交通局")
        claim("scjgj", "B", "区市场监管局")
        review_task(PICKED["A"], bureau, {"decision": "return", "comment": "请补充整改前后对比材料"}, day)
        review_task(PICKED["B"], bureau, {"decision": "approve", "comment": ""}, day)
        actions += ["退回1项", "销号1项"]
    elif index == 1:
        c, who = _pick_any(overdue_on=day, skip=set(PICKED.values()))
        PICKED["C"] = c.id
        PICKED["extC"] = request_extension(c.id, get_user_by_name(who), {
            "new_deadline": (day + timedelta(days=90)).isoformat(), "reason": "需市级部门批复"}, day).id
        d = _pick("区市场监管局", skip=set(PICKED.values()))
        PICKED["D"] = d.id
        PICKED["extD"] = request_extension(d.id, get_user_by_name("scjgj"), {
            "new_deadline": (d.effective_deadline + timedelta(days=60)).isoformat(), "reason": "人员调整"}, day).id
        actions += ["延期申请2项"]
    elif index == 2:
        decide_extension(PICKED["extC"], bureau, {"decision": "approve", "comment": "同意"}, day)
        decide_extension(PICKED["extD"], bureau, {"decision": "reject", "comment": "理由不充分"}, day)
        actions += ["批准延期1项", "驳回延期1项"]
    elif index == 3:
        claim("jtj", "A", "区交通局")
        review_task(PICKED["A"], bureau, {"decision": "approve", "comment": "材料齐全"}, day)
        actions += ["重新申请并销号1项"]
    elif index == 4:
        e = _pick("区司法局", skip=set(PICKED.values()))
        set_deadline(e.id, bureau, {"new_deadline": (e.effective_deadline + timedelta(days=30)).isoformat(),
                                    "reason": "区政府调整工作安排"}, day)
        actions += ["直接调整完成时限1项"]
    check_overdue(day)
    send_reminders(day)
    rows = db.session.execute(select(Notification.kind, Notification.dedupe_key)
                              .where(Notification.id > before)).all()
    counts = Counter(f"event:{key.split(':')[1]}" if kind == "event" else kind for kind, key in rows)
    return day.isoformat(), counts, "；".join(actions) or "—"


if __name__ == "__main__":
    sys.exit(main())
