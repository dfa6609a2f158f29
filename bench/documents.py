"""Time the bureau's documents: assessment (year), monthly bulletin, annual report draft.

Two plans, each in a fresh SQLite file: the reference plan (175 tasks, 92 measures) with a year of
demo history (``seed --demo-progress``), and the 10,000-measure synthetic plan of ``bench/synth.py``.
Service functions are timed directly (no HTTP), best of ``--runs``.

    python bench/documents.py [--runs 3] [--skip-10000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.synth import make_bench_app  # noqa: E402

TODAY = date(2024, 12, 31)


def reference_app(folder: Path):
    app = make_bench_app(folder / "reference.db")
    with app.app_context():
        from tracker.operations.seed import seed
        from tracker.plans import demo

        seed()
        demo.generate(TODAY)
    return app


def synthetic_app(folder: Path, measures: int):
    app = make_bench_app(folder / f"synth-{measures}.db")
    with app.app_context():
        from bench.synth import populate

        populate(measures)
    return app


def time_documents(app, runs: int) -> dict[str, float]:
    from tracker.documents.generate import annual_file, assessment_file, bulletin_file
    from tracker.documents.service import resolve

    timings: dict[str, float] = {}
    with app.app_context():
        jobs = {
            "考核 2024 (.xlsx)": lambda: assessment_file(*resolve(None, "2024"), TODAY),
            "工作通报 2024-06 (.docx)": lambda: bulletin_file(*resolve(None, "2024-06"), TODAY),
            "年度报告 2024 (.docx)": lambda: annual_file(*resolve(None, "2024"), TODAY),
        }
        for name, job in jobs.items():
            best = float("inf")
            for _ in range(runs):
                started = time.perf_counter()
                job()
                best = min(best, time.perf_counter() - started)
            timings[name] = best
    return timings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-10000", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plans = [("参考计划（92项举措，一年演示数据）", lambda: reference_app(folder))]
        if not args.skip_10000:
            plans.append(("合成计划（10,000项举措）", lambda: synthetic_app(folder, 10000)))
        for label, build in plans:
            app = build()
            for name, seconds in time_documents(app, args.runs).items():
                print(f"{label:24s} {name:26s} {seconds:6.2f} s", flush=True)


if __name__ == "__main__":
    main()
