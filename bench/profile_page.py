"""CPU cost of pages, measured in-process (independent of other load on the machine).

    python bench/profile_page.py [/ledger / /api/v1/tasks ...] [--user dubanke] [--profile] [-n 40]

Uses the tracker_bench database (run bench/serve.py or bench/http_pages.py once to create and
seed it). Prints process CPU time per request (min / median) and the number of SQL
statements; --profile adds the top of a cProfile listing sorted by own time.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serve import PG_SERVER, SECRET  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["/ledger", "/", "/api/v1/tasks"])
    parser.add_argument("--user", default="dubanke")
    parser.add_argument("--database", default="tracker_bench")
    parser.add_argument("-n", type=int, default=40)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1)
                      + "/" + args.database, SECRET_KEY=SECRET)
    from sqlalchemy import event

    from tracker import create_app
    from tracker.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    if client.post("/login", data={"username": args.user, "password": "demo1234"}).status_code != 302:
        raise SystemExit(f"login as {args.user} failed (is tracker_bench seeded?)")
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
    for path in args.paths:
        for _ in range(5):
            response = client.get(path)
        if response.status_code != 200:
            print(f"{path}: HTTP {response.status_code}, skipped")
            continue
        statements[0] = 0
        client.get(path)
        count = statements[0]
        cpu, wall = [], []
        for _ in range(args.n):
            t0, w0 = time.process_time(), time.perf_counter()
            client.get(path)
            cpu.append(time.process_time() - t0)
            wall.append(time.perf_counter() - w0)
        cpu.sort()
        wall.sort()
        print(f"{path}: CPU per request min {cpu[0] * 1000:.1f} ms, median {cpu[len(cpu) // 2] * 1000:.1f} ms; "
              f"wall median {wall[len(wall) // 2] * 1000:.1f} ms; {count} SQL statements; {len(response.data) / 1024:.1f} KB")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.n):
                client.get(path)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
