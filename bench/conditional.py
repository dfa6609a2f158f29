"""Time a ledger GET, a 304 revalidation and a gzip'd GET on a synthetic plan (web/conditional.py).

A fresh SQLite file with one plan of ``--measures`` measures (bench/synth.py); the pages are fetched
through the Flask test client (in-process, wall clock), logged in as an admin; medians of ``--runs``.

    python bench/conditional.py [--measures 2000] [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

URL = "/ledger?today=2024-07-01"


def _timed(call):
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def measure(client, runs: int) -> list[tuple[str, float, int, int]]:
    """Rows of (what, median seconds, status, body bytes)."""
    client.get(URL)  # warms imports, templates and the read cache
    etag = client.get(URL).headers["ETag"]
    cases = [
        ("GET（未压缩）", lambda: client.get(URL)),
        ("GET Accept-Encoding: gzip", lambda: client.get(URL, headers={"Accept-Encoding": "gzip"})),
        ("If-None-Match → 304", lambda: client.get(URL, headers={"If-None-Match": etag})),
    ]
    rows = []
    for label, call in cases:
        times, response = [], None
        for _ in range(runs):
            elapsed, response = _timed(call)
            times.append(elapsed)
        rows.append((label, statistics.median(times), response.status_code, len(response.data)))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ.setdefault("TRACKER_ENV", "development")  # the bench app's short SECRET_KEY
    from bench.plan_sizes import build

    with tempfile.TemporaryDirectory() as folder:
        app, build_s = build(Path(folder) / "bench.db", args.measures)
        client = app.test_client()
        client.post("/login", data={"username": "admin", "password": "bench1234"})
        rows = measure(client, args.runs)
    print(f"{args.measures} 项具体举措（生成 {build_s:.1f} s），{URL}，中位数 / {args.runs} 次：")
    print(f"| {'请求':<26} | {'耗时 ms':>8} | HTTP | {'正文字节':>10} |")
    print(f"|{'-' * 28}|{'-' * 10}|------|{'-' * 12}|")
    for label, seconds, status, size in rows:
        print(f"| {label:<26} | {seconds * 1000:8.1f} | {status:>4} | {size:>10,} |")


if __name__ == "__main__":
    main()
