"""Synthetic plans for benchmarks (and query-count tests).

``populate(measures)`` writes, with bulk inserts, a three-level plan of about
``measures`` measures (≈ measures/3 second-level and measures/9 first-level
tasks), 56 units, responsible-unit links and three months of progress updates
per measure. Run alone to build a SQLite file:

    python bench/synth.py --measures 2000 --db /tmp/bench-2000.db
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tracker.extensions import db  # noqa: E402
from tracker.models import CO, LEAD, Plan, ProgressUpdate, Task, TaskUnit, Unit  # noqa: E402

STATUSES = ["not_started"] * 2 + ["in_progress"] * 5 + ["pending_review"] + ["done"] * 2
DEADLINES = [(date(2023, 12, 31), "2023年底前"), (date(2024, 6, 30), "2024年6月底前"),
             (date(2024, 7, 10), "2024年7月10日前"), (date(2024, 9, 30), "2024年第三季度"),
             (date(2024, 12, 31), "2024年底前"), (date(2025, 6, 30), "2025年上半年"),
             (date(2025, 12, 31), "2025年底前"), (None, "长期坚持")]
CHUNK = 2000


def _ensure_units(n: int = 56) -> list[int]:
    ids = list(db.session.execute(select(Unit.id).order_by(Unit.id)).scalars())
    missing = n - len(ids)
    if missing > 0:
        start = (db.session.scalar(select(func.max(Unit.id))) or 0) + 1
        rows = [{"id": start + i, "full_name": f"天津市宝坻区合成单位{start + i:03d}", "short_name": f"合成单位{start + i:03d}",
                 "kind": "街镇" if i % 3 == 0 else "区直部门", "emails": "", "active": True} for i in range(missing)]
        db.session.execute(insert(Unit.__table__), rows)
        ids += [r["id"] for r in rows]
    return ids[:max(n, 1)]


def _bulk(table, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(table), rows[i:i + CHUNK])


def _fix_sequences() -> None:
    if db.engine.dialect.name != "postgresql":
        return
    for table in ("units", "plans", "tasks", "progress_updates"):
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"))


def make_bench_app(db_path: Path):
    os.environ.setdefault("TRACKER_INSTANCE_PATH", str(db_path.parent / "instance"))
    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
    return app


def populate(measures: int, *, seed: int = 42, title: str | None = None, updates_per_measure: int = 3) -> int:
    """Write one synthetic plan of ``measures`` measures; returns its id. Commits."""
    rng = random.Random(seed)
    unit_ids = _ensure_units()
    plan_id = (db.session.scalar(select(func.max(Plan.id))) or 0) + 1
    db.session.execute(insert(Plan.__table__), [{
        "id": plan_id, "title": title or f"合成计划（{measures}项具体举措，#{plan_id}）", "issuer": "基准测试",
        "start_date": date(2023, 11, 1), "end_date": date(2025, 12, 31), "note": "",
        "created_at": datetime(2023, 11, 1)}])
    next_id = (db.session.scalar(select(func.max(Task.id))) or 0) + 1
    n2 = max(1, measures // 3)
    n1 = max(1, n2 // 3)
    cn = "一二三四五六七八九十"
    tasks: list[dict] = []
    links: list[dict] = []
    updates: list[dict] = []
    now = datetime(2024, 7, 1, 8, 0)

    def node(level, parent, position, code, title_text, leaf, **extra):
        nonlocal next_id
        row = {"id": next_id, "plan_id": plan_id, "parent_id": parent, "level": level, "position": position,
               "code": code, "title": title_text, "description": "", "deadline": None, "deadline_text": "",
               "is_leaf": leaf, "status": "not_started", "progress": 0, "latest_progress": "",
               "last_report_period": "", "return_comment": "", "version": 1, "updated_at": now,
               "claimed_on": None, "completed_on": None}
        row.update(extra)
        tasks.append(row)
        next_id += 1
        return row["id"]

    level1 = [node(1, None, i, cn[i % 10] if i < 10 else str(i + 1), f"一级任务{i + 1}：提升行政执法质量重点工作", False)
              for i in range(n1)]
    level2 = []
    for j in range(n2):
        parent = level1[j * n1 // n2]
        level2.append(node(2, parent, j, f"（{j + 1}）", f"二级任务{j + 1}：完善执法制度机制", False))
    update_id = (db.session.scalar(select(func.max(ProgressUpdate.id))) or 0) + 1
    for k in range(measures):
        parent = level2[k * n2 // measures]
        deadline, deadline_text = rng.choice(DEADLINES)
        status = rng.choice(STATUSES)
        if deadline is None and status in ("done", "pending_review", "not_started"):
            status = "in_progress"
        progress = {"not_started": 0, "in_progress": rng.randint(10, 90), "pending_review": 100, "done": 100}[status]
        period = rng.choice(["2024-05", "2024-06", "2024-06", "2024-07"])
        text_ = f"第{k + 1}项举措已按计划推进，完成阶段性任务，形成工作台账并报送区司法局。" * rng.randint(1, 2)
        mid = node(3, parent, k, str(k + 1), f"具体工作举措{k + 1}：健全行政执法监督工作体系，落实执法责任制", True,
                   deadline=deadline, deadline_text=deadline_text, status=status, progress=progress,
                   latest_progress=text_, last_report_period=period if status != "not_started" else "",
                   claimed_on=date(2024, 6, 20) if status in ("pending_review", "done") else None,
                   completed_on=date(2024, 6, 28) if status == "done" else None)
        leads = rng.sample(unit_ids, 2 if rng.random() < 0.2 else 1)
        cos = [u for u in rng.sample(unit_ids, rng.randint(0, 2)) if u not in leads]
        for pos, u in enumerate(leads):
            links.append({"task_id": mid, "unit_id": u, "role": LEAD, "position": pos})
        for pos, u in enumerate(cos, start=len(leads)):
            links.append({"task_id": mid, "unit_id": u, "role": CO, "position": pos})
        if status == "not_started":
            continue
        months = ["2024-04", "2024-05", "2024-06"][-updates_per_measure:] if updates_per_measure else []
        for m_i, month in enumerate(months):
            last = m_i == len(months) - 1
            updates.append({
                "id": update_id, "task_id": mid, "user_id": None, "unit_id": leads[0],
                "created_at": datetime(int(month[:4]), int(month[5:]), 20, 9, 0),
                "report_date": date(int(month[:4]), int(month[5:]), 20), "period": month,
                "status": status if last else "in_progress",
                "progress": progress if last else max(0, progress - 10 * (len(months) - m_i)),
                "narrative": "按计划推进", "problems": "", "next_steps": "继续推进"})
            update_id += 1
    _bulk(Task.__table__, tasks)
    _bulk(TaskUnit.__table__, links)
    _bulk(ProgressUpdate.__table__, updates)
    _fix_sequences()
    db.session.commit()
    return plan_id


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", type=int, default=175)
    parser.add_argument("--db", required=True, help="SQLite file to create")
    args = parser.parse_args(argv)

    app = make_bench_app(Path(args.db))
    with app.app_context():
        plan_id = populate(args.measures)
        print(f"plan {plan_id}: {args.measures} measures in {args.db}")


if __name__ == "__main__":
    main()
