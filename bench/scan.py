"""Time the daily sweep — ``check_overdue`` + ``send_reminders`` — over a 10,000-measure plan.

A synthetic plan (``bench/synth.py``) is built once into a SQLite file; every unit
gets two liaison addresses and the bureau a digest address. The day is chosen so
that the sweep has much to do: ``--today`` (default 2024-07-01) is the first
overdue day of every measure due 2024-06-30 and a weekly repeat day of those due
2023-12-31, and the measures due 2024-07-10 are moved to ``today + 7`` so they
are due soon. Each mail mode starts from a fresh copy of the built file:

* ``file`` — no MAIL_SERVER, every email written as an ``.eml`` file;
* ``smtp`` — a real aiosmtpd server on loopback, in its own process (``bench/smtp_sink.py``).

    python bench/scan.py [--measures 10000] [--runs 3] [--profile] [--database-url postgresql+psycopg://…]

``--profile`` prints a cProfile summary of one ``smtp`` run.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.smtp_sink import Sink  # noqa: E402

TARGET_S = 2.0


def build(url: str, measures: int, today: date) -> dict:
    from sqlalchemy import func, select, update

    from bench.synth import populate
    from tracker import create_app
    from tracker.extensions import db
    from tracker.models import Task, Unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        populate(measures)
        for unit_id in db.session.execute(select(Unit.id)).scalars():
            db.session.execute(update(Unit).where(Unit.id == unit_id).values(
                emails=f"liaison{unit_id:03d}@bdq.tj.gov.cn; office{unit_id:03d}@bdq.tj.gov.cn"))
        db.session.execute(update(Task).where(Task.deadline == date(2024, 7, 10))
                           .values(deadline=today + timedelta(days=7), deadline_text="近期"))
        db.session.commit()
        counts = {
            "measures": db.session.scalar(select(func.count()).select_from(Task).where(Task.is_leaf.is_(True))),
            "units": db.session.scalar(select(func.count()).select_from(Unit)),
        }
        db.session.remove()
        db.engine.dispose()
    return counts


def make_app(url: str, mail_dir: Path, smtp_port: int | None):
    from tracker import create_app

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
              "MAIL_FILE_FOLDER": str(mail_dir), "BUREAU_EMAILS": "duban@bdq.tj.gov.cn",
              "MAIL_SERVER": "", "BASE_URL": "https://duban.example.cn"}
    if smtp_port:
        config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_port)
    return create_app(config)


def fresh_copy(src_url: str, work: Path, mode: str) -> str:
    """SQLite: a copy of the built file. PostgreSQL: the same database, put back as built."""
    if src_url.startswith("sqlite:///"):
        db_path = work / f"run-{mode}.db"
        shutil.copyfile(src_url[len("sqlite:///"):], db_path)
        return f"sqlite:///{db_path}"
    from sqlalchemy import create_engine, text

    engine = create_engine(src_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))
        conn.execute(text("DELETE FROM task_events"))
        conn.execute(text("UPDATE tasks SET overdue_since = NULL WHERE overdue_since IS NOT NULL"))
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return src_url


def one_run(src_url: str, work: Path, today: date, mode: str, profile: bool = False) -> dict:
    """Start from the built state, run the sweep once; returns timings and counts."""
    from sqlalchemy import event

    from tracker.extensions import db
    from tracker.notify.reminders import send_reminders
    from tracker.supervision.overdue import check_overdue

    url = fresh_copy(src_url, work, mode)
    mail_dir = work / f"mail-{mode}"
    shutil.rmtree(mail_dir, ignore_errors=True)
    server = Sink(work / f"keys-{mode}.txt") if mode == "smtp" else None
    try:
        app = make_app(url, mail_dir, server.port if server else None)
        with app.app_context():
            queries = {"n": 0}

            def count(*_args, **_kw):
                queries["n"] += 1

            event.listen(db.engine, "before_cursor_execute", count)
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            t0 = time.perf_counter()
            overdue = check_overdue(today)
            t1 = time.perf_counter()
            q_overdue = queries["n"]
            reminders = send_reminders(today)
            t2 = time.perf_counter()
            if profiler:
                profiler.disable()
            event.remove(db.engine, "before_cursor_execute", count)
            delivered = reminders.delivery.sent if reminders.delivery else 0
            received = server.received() if server else len(list(mail_dir.glob("*.eml")))
            out = {"overdue_s": t1 - t0, "reminders_s": t2 - t1, "total_s": t2 - t0,
                   "queries_overdue": q_overdue, "queries_reminders": queries["n"] - q_overdue,
                   "flagged": overdue.flagged, "overdue_total": overdue.overdue_total,
                   "emails": reminders.unit_emails + reminders.digests, "sent": delivered, "received": received}
            if profiler:
                buf = io.StringIO()
                pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(30)
                out["profile"] = buf.getvalue()
            db.session.remove()
            db.engine.dispose()
        return out
    finally:
        if server:
            server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="check-overdue + send-reminders over a big plan")
    parser.add_argument("--measures", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--today", default="2024-07-01")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of one smtp run")
    parser.add_argument("--database-url", default="",
                        help="an EMPTY PostgreSQL database to use instead of a SQLite file (its tables are dropped)")
    args = parser.parse_args(argv)
    today = date.fromisoformat(args.today)
    with tempfile.TemporaryDirectory(prefix="tracker-scan-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("TRACKER_INSTANCE_PATH", str(work / "instance"))
        src = args.database_url or f"sqlite:///{work / 'built.db'}"
        started = time.perf_counter()
        counts = build(src, args.measures, today)
        engine = "PostgreSQL" if src.startswith("postgresql") else "SQLite 文件库"
        print(f"合成计划：{counts['measures']:,} 项具体举措，{counts['units']} 个单位，{engine}，"
              f"构建 {time.perf_counter() - started:.1f}s；日期 {today.isoformat()}", flush=True)
        if args.profile:
            print(one_run(src, work, today, "smtp", profile=True)["profile"])
            return 0
        status = 0
        for mode, label in (("file", ".eml 文件"), ("smtp", "本机 aiosmtpd")):
            runs = [one_run(src, work, today, mode) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in runs) for k in ("overdue_s", "reminders_s", "total_s")}
            r = runs[0]
            ok = med["total_s"] < TARGET_S and r["received"] == r["emails"] == r["sent"]
            status |= 0 if ok else 1
            print(f"{label}：check-overdue {med['overdue_s'] * 1000:.0f} ms（{r['queries_overdue']} 条 SQL，"
                  f"新增逾期 {r['flagged']:,} 项）+ send-reminders {med['reminders_s'] * 1000:.0f} ms"
                  f"（{r['queries_reminders']} 条 SQL，{r['emails']} 封邮件，收到 {r['received']} 封）"
                  f" = {med['total_s'] * 1000:.0f} ms（{args.runs} 次中位数，目标 < {TARGET_S:.0f} s："
                  f"{'达标' if ok else '未达标'}）", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
