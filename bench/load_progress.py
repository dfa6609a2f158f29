"""50 simulated liaisons posting progress reports at once (bounded, loopback only).

    python bench/load_progress.py [--liaisons 50] [--duration 60] [--workers 4]

Against gunicorn (4 workers) on PostgreSQL (database tracker_bench, reference plan
reloaded; see bench/serve.py). Creates one unit liaison per simulated person
(``load01`` …, spread over the units that have measures, so some share a unit and
race on the same measures) with an API token each. Every liaison loops for
``--duration`` seconds: pick one of its unit's measures, POST
/api/v1/tasks/<id>/updates {status, progress, narrative, problems, next_steps,
version} with the version it last saw (SPEC 3): 201 = accepted, 409 = stale
version (re-read the task, counted as a conflict), 422 = field errors, 403 = not
its unit, 5xx = server error.

Then it checks: no 5xx; every accepted (201) update is in the history exactly once
(progress_updates rows by their unique narrative, read from the database) and
nothing else was written; each task's version in GET /api/v1/tasks moved by the
number of accepted updates; conflicts were answered 409 (never silently
overwritten). Exit status 1 when a check fails. Needs the update endpoint (issue 2);
exits with a message when the server does not have it yet.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serve import ROOT, SECRET, bench_server  # noqa: E402

MARK = "压测进展"


def setup_liaisons(database_url: str, n: int) -> list[dict]:
    """Create n unit liaisons with tokens; return [{username, unit, token}]."""
    os.environ.update(DATABASE_URL=database_url, SECRET_KEY=SECRET)
    from sqlalchemy import select

    from tracker import create_app
    from tracker.accounts.users import create_token, create_user
    from tracker.extensions import db
    from tracker.models import Task, TaskUnit, Unit, User

    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    out = []
    with app.app_context():
        units = db.session.execute(
            select(Unit).where(Unit.id.in_(
                select(TaskUnit.unit_id).join(Task, Task.id == TaskUnit.task_id).where(Task.is_leaf)))
            .order_by(Unit.id)).scalars().all()
        for i in range(n):
            unit = units[i % len(units)]
            name = f"load{i + 1:02d}"
            user = db.session.execute(select(User).where(User.username == name)).scalar_one_or_none()
            if user is None:
                user = create_user(name, "unit", "load-password-1234", unit=unit.full_name)
                db.session.flush()
            out.append({"username": name, "unit": user.unit.name, "token": create_token(user)})
        db.session.commit()
        db.engine.dispose()
    return out


def history_rows(database_url: str) -> list[tuple[int, str]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT task_id, narrative FROM progress_updates WHERE narrative LIKE :m"),
                            {"m": MARK + "%"}).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


class Client:
    def __init__(self, base: str, token: str):
        host, port = base.split("//")[1].split(":")
        self.host, self.port = host, int(port)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=json.dumps(body) if body is not None else None,
                                  headers=self.headers)
                resp = self.conn.getresponse()
                data = resp.read()
                try:
                    return resp.status, json.loads(data) if data else None
                except ValueError:
                    return resp.status, data[:200]
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt == 2 or method != "GET":
                    raise
        raise AssertionError("unreachable")


def own_measures(client: Client, unit: str) -> dict[int, dict]:
    status, tasks = client.call("GET", "/api/v1/tasks?level=3")
    if status != 200:
        raise SystemExit(f"GET /api/v1/tasks answered {status}")
    return {t["id"]: t for t in tasks if unit in t["lead_units"] + t["co_units"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--liaisons", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60, help="seconds (max 300)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    duration = min(args.duration, 300)
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)

    with bench_server(workers=args.workers, threads=args.threads) as srv:
        liaisons = setup_liaisons(srv.database_url, args.liaisons)
        probe = Client(srv.base, liaisons[0]["token"])
        mine = own_measures(probe, liaisons[0]["unit"])
        status, _ = probe.call("POST", f"/api/v1/tasks/{next(iter(mine))}/updates", {})
        if status in (404, 405):
            raise SystemExit("POST /api/v1/tasks/<id>/updates is not served yet (issue 2): nothing to measure")
        admin = Client(srv.base, srv.token("dubanke"))
        status, all_tasks = admin.call("GET", "/api/v1/tasks?level=3")
        initial = {t["id"]: t["version"] for t in all_tasks}

        lock = threading.Lock()
        accepted: dict[str, int] = {}          # narrative -> task id
        accepted_per_task: Counter = Counter()
        statuses: Counter = Counter()
        latencies: list[float] = []
        failures: list[str] = []
        stop = threading.Event()
        start = threading.Barrier(len(liaisons) + 1)

        def liaison(spec: dict, index: int) -> None:
            rnd = random.Random(args.seed * 1000 + index)
            client = Client(srv.base, spec["token"])
            tasks = own_measures(client, spec["unit"])
            versions = {tid: t["version"] for tid, t in tasks.items()}
            progress = {tid: t["progress"] for tid, t in tasks.items()}
            start.wait()
            n = 0
            while not stop.is_set() and tasks:
                tid = rnd.choice(list(tasks))
                n += 1
                narrative = f"{MARK} {spec['username']} #{n}"
                progress[tid] = min(95, progress[tid] + rnd.randint(0, 3))
                body = {"status": "in_progress", "progress": progress[tid], "narrative": narrative,
                        "problems": "", "next_steps": "继续推进", "version": versions[tid]}
                t0 = time.perf_counter()
                try:
                    status, data = client.call("POST", f"/api/v1/tasks/{tid}/updates", body)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        statuses["connection error"] += 1
                        failures.append(f"{narrative}: {exc}")
                    continue
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    statuses[status] += 1
                    if status == 201:
                        accepted[narrative] = tid
                        accepted_per_task[tid] += 1
                    elif status >= 500 or status not in (409, 422):
                        failures.append(f"{narrative}: HTTP {status} {str(data)[:150]}")
                if status == 201:
                    new = data.get("version") if isinstance(data, dict) else None
                    if isinstance(new, int):
                        versions[tid] = new
                    else:
                        versions[tid] += 1
                elif status in (409, 422):
                    # Someone else saved first (or the progress was refused): re-read, like a user would.
                    fresh = own_measures(client, spec["unit"])
                    versions = {k: t["version"] for k, t in fresh.items()}
                    progress = {k: max(progress.get(k, 0), t["progress"]) for k, t in fresh.items()}

        threads = [threading.Thread(target=liaison, args=(spec, i), daemon=True) for i, spec in enumerate(liaisons)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        time.sleep(duration)
        stop.set()
        for t in threads:
            t.join(60)
        elapsed = time.perf_counter() - t0

        # --- checks ------------------------------------------------------------------------------------
        rows = history_rows(srv.database_url)
        stored = Counter(n for _, n in rows)
        missing = [n for n in accepted if stored[n] != 1]
        unexpected = [n for n in stored if n not in accepted]
        status, after = admin.call("GET", "/api/v1/tasks?level=3")
        version_moves = {t["id"]: t["version"] - initial.get(t["id"], t["version"]) for t in after}
        version_mismatch = {tid: (version_moves.get(tid), n) for tid, n in accepted_per_task.items()
                            if version_moves.get(tid) != n}
        server_errors = sum(n for s, n in statuses.items() if isinstance(s, int) and s >= 500)

    lat = sorted(latencies)
    report = {
        "liaisons": len(liaisons), "workers": args.workers, "duration_s": round(elapsed, 1),
        "requests": len(lat), "rps": round(len(lat) / elapsed, 1),
        "median_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "p95_ms": round(lat[int(len(lat) * 0.95)] * 1000, 1) if lat else None,
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "accepted": len(accepted), "conflicts_409": statuses.get(409, 0), "server_errors_5xx": server_errors,
        "history_rows": len(rows), "accepted_missing_from_history": len(missing),
        "history_rows_not_accepted": len(unexpected), "tasks_with_version_mismatch": len(version_mismatch),
        "failures": failures[:10],
    }
    out = ROOT / "bench" / "results" / f"load-progress-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))
    ok = (server_errors == 0 and not missing and not unexpected and not version_mismatch
          and not statuses.get("connection error") and not statuses.get(403))
    print("OK: no 5xx, every accepted update is in the history once, conflicts answered 409" if ok
          else "FAILED: see above")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
