"""`make bench`: every benchmark, one after the other (bounded in time, loopback only).

1. bench/plan_sizes.py — ledger, dashboard and export on synthetic plans of 175, 2,000
   and 10,000 measures (Flask test client, SQLite file).
2. bench/http_pages.py — requests/s and latency of the main pages on gunicorn + PostgreSQL.
3. bench/scan.py — check-overdue + send-reminders over a 10,000-measure plan.

Arguments are passed to none of them; run a script on its own for its options.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    status = 0
    for script in ("plan_sizes.py", "http_pages.py", "scan.py"):
        path = HERE / script
        if not path.exists():
            continue
        print(f"== {script} ==", flush=True)
        status |= subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
    return status


if __name__ == "__main__":
    sys.exit(main())
