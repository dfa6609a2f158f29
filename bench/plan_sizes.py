"""Time the ledger page, the dashboard and the export on synthetic plans.

For each size (175, 2,000 and 10,000 measures) a fresh SQLite file is built
with ``bench/synth.py``; then the pages are fetched through the Flask test
client, logged in as an admin, and the median of a few runs is reported.

    python bench/plan_sizes.py [--sizes 175,2000,10000] [--runs 3] [--update-readme]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TODAY = "2024-07-01"
PAGES = [
    ("工作台账 /ledger", "/ledger?today=" + TODAY),
    ("台账·单个一级任务", "/ledger?today=" + TODAY + "&task={root}"),
    ("总览 /", "/?today=" + TODAY),
    ("导出 /ledger/export.xlsx", "/ledger/export.xlsx?today=" + TODAY),
]
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def build(db_path: Path, measures: int):
    from bench.synth import make_bench_app, populate
    from tracker.extensions import db
    from tracker.models import User

    app = make_bench_app(db_path)
    with app.app_context():
        user = User(username="admin", display_name="管理员", role="admin", active=True)
        user.set_password("bench1234")
        db.session.add(user)
        db.session.commit()
        started = time.perf_counter()
        populate(measures)
        build_s = time.perf_counter() - started
    return app, build_s


def time_pages(app, runs: int) -> dict[str, tuple[float, float]]:
    """Per page: (cold, warm) medians. Cold = the first request after a data change (the
    read cache emptied before each run); warm = later requests until the next change."""
    from sqlalchemy import select

    from tracker.cache import readcache
    from tracker.extensions import db
    from tracker.models import Task

    with app.app_context():
        root = db.session.execute(select(Task.id).where(Task.level == 1).order_by(Task.position)).scalars().first()
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "bench1234"})
    result = {}
    for label, url in PAGES:
        url = url.format(root=root)
        cold, warm = [], []
        for _ in range(runs + 1):  # the first run warms imports and templates
            readcache.clear()
            started = time.perf_counter()
            response = client.get(url)
            cold.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            started = time.perf_counter()
            client.get(url)
            warm.append(time.perf_counter() - started)
        result[label] = (statistics.median(cold[1:]), statistics.median(warm[1:]))
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Ledger / dashboard / export benchmark")
    parser.add_argument("--sizes", default="175,2000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--update-readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as tmp:
        for size in sizes:
            app, build_s = build(Path(tmp) / f"bench-{size}.db", size)
            timings = time_pages(app, args.runs)
            rows.append((size, build_s, timings))
            print(f"{size:>6} 项：构建 {build_s:.1f}s；" + "；".join(
                f"{k} {c * 1000:.0f} / {w * 1000:.0f} ms" for k, (c, w) in timings.items()), flush=True)
            with app.app_context():
                from tracker.extensions import db

                db.session.remove()
                db.engine.dispose()
    table = render_table(rows, args.runs)
    print()
    print(table)
    if args.update_readme:
        update_readme(table)


def render_table(rows, runs: int) -> str:
    labels = [label for label, _ in PAGES]
    lines = ["| 具体举措数 | " + " | ".join(labels) + " |", "|---:|" + "---:|" * len(labels)]
    for size, _build, timings in rows:
        lines.append(f"| {size:,} | " + " | ".join(
            f"{timings[l][0] * 1000:.0f} / {timings[l][1] * 1000:.0f} ms" for l in labels) + " |")
    lines.append("")
    lines.append(f"（每格：数据变更后首次请求 / 之后的请求（读缓存命中）。SQLite 文件库，Flask 测试客户端，"
                 f"已登录管理员，每项取 {runs} 次的中位数；Python {sys.version.split()[0]}。）")
    return "\n".join(lines)


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = f"{README_START}\n{table}\n{README_END}"
    if README_START in text and README_END in text:
        before, rest = text.split(README_START, 1)
        after = rest.split(README_END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n## 性能基准\n\n`make bench`（其中 `python bench/plan_sizes.py`）在合成计划上测量工作台账、总览和导出：\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
