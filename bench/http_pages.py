"""Speed of the main pages on gunicorn + PostgreSQL (bounded, loopback only).

    python bench/http_pages.py [--duration 10] [--workers 4] [--threads 1]

Starts bench/serve.py's server (database tracker_bench, reference plan reloaded),
then for each page measures 1 connection (median latency) and 8 connections
(throughput), logged in as the supervisor ``dubanke`` (sees all 92 measures) or a
unit liaison for "my tasks". Prints a Markdown table and writes
bench/results/speed-<time>.json. Targets (issue 6): ledger and dashboard >= 160
requests/s at 8 connections with no errors, median <= 12 ms at 1 connection.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import login, run  # noqa: E402
from serve import ROOT, bench_server  # noqa: E402

PAGES = [
    ("工作台账 /ledger（全部 92 项）", "/ledger", "dubanke"),
    ("总览 /", "/", "dubanke"),
    ("本单位任务 /my-tasks", "/my-tasks", "sfj"),
    ("逾期清单 /overdue", "/overdue", "dubanke"),
    ("API /api/v1/tasks", "/api/v1/tasks", "dubanke"),
]
TARGET_RPS, TARGET_MEDIAN_MS = 160, 12


def exists(base: str, path: str, cookie: str) -> bool:
    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status == 200
    except urllib.error.HTTPError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement (max 60)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    duration = min(args.duration, 60)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with bench_server(workers=args.workers, threads=args.threads) as srv:
        cookies = {}
        for label, path, user in PAGES:
            cookie = cookies.get(user) or cookies.setdefault(user, login(srv.base, user, "demo1234"))
            if not exists(srv.base, path, cookie):
                print(f"skip {path}: not served (yet)", flush=True)
                continue
            headers = {"Cookie": cookie}
            one = run(srv.base, path, 1, duration / 2, headers, warmup=1)
            many = run(srv.base, path, args.connections, duration, headers, warmup=1)
            rows.append({"page": label, "path": path, "user": user, "one": one, "many": many})
            print(f"{path}: 1 conn median {one['median_ms']} ms; {args.connections} conn "
                  f"{many['rps']} req/s p95 {many['p95_ms']} ms, errors {many['non_2xx'] + many['conn_errors']}",
                  flush=True)
    load = os.getloadavg()
    result = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "cpus": os.cpu_count(), "workers": args.workers,
              "threads": args.threads, "loadavg_after": load, "rows": rows}
    path = out / f"speed-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print()
    print(f"| 页面 | 1 连接中位数 | {args.connections} 连接 请求/秒 | {args.connections} 连接 p95 | 错误 | 响应大小 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        one, many = r["one"], r["many"]
        print(f"| {r['page']} | {one['median_ms']} ms | {many['rps']} | {many['p95_ms']} ms | "
              f"{many['non_2xx'] + many['conn_errors']} | {many['kb_per_response']} KB |")
    print(f"\n{os.cpu_count()} CPUs, gunicorn {args.workers} workers x {args.threads} threads, "
          f"load average after: {load[0]:.2f}; targets: >= {TARGET_RPS} req/s, median <= {TARGET_MEDIAN_MS} ms. "
          f"Raw figures: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
