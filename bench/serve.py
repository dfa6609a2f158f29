"""Serve the app for benchmarks: gunicorn (4 workers) on PostgreSQL, reference plan seeded.

    python bench/serve.py [--workers 4] [--port 0] [--duration 600] [--database tracker_bench]

Creates the database ``tracker_bench`` on the local PostgreSQL (BENCH_PG, default
postgresql://postgres@127.0.0.1:5432) if missing, applies the migrations, reloads the
reference plan (``seed --reset``), then runs gunicorn on 127.0.0.1 until Ctrl-C or
``--duration`` seconds (bounded: at most 1 hour). Loopback only.

Also importable: ``with bench_server() as srv: srv.base, srv.token(username)``.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_SERVER = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
SECRET = "bench-secret-key-not-for-production-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(name: str) -> str:
    """Create database ``name`` if needed; return its SQLAlchemy URL."""
    import psycopg

    if not name.replace("_", "").isalnum():
        raise SystemExit(f"bad database name: {name}")
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name


def app_env(database_url: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_DEBUG", "TRACKER_ENV", "TEST_DATABASE_URL")}
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET,
               TRACKER_INSTANCE_PATH=str(ROOT / "bench" / "results" / "instance"))
    env.update(extra)
    return env


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run([PYTHON, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                            input=stdin, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout.strip()


def prepare(database: str, seed: bool = True, seed_dir: str | None = None) -> str:
    url = ensure_database(database)
    env = app_env(url)
    flask(env, "init-db")
    if seed:
        args = ["seed", "--reset"] + (["--dir", seed_dir] if seed_dir else [])
        flask(env, *args)
    return url


@dataclass
class BenchServer:
    base: str
    database_url: str
    proc: subprocess.Popen
    tokens: dict = field(default_factory=dict)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = flask(app_env(self.database_url), "create-token", username)
        return self.tokens[username]


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            urllib.request.urlopen(base + "/login", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer in time")


@contextlib.contextmanager
def bench_server(workers: int = 4, threads: int = 1, port: int = 0, database: str = "tracker_bench",
                 seed: bool = True, accesslog: bool = False, seed_dir: str | None = None):
    url = prepare(database, seed=seed, seed_dir=seed_dir)
    port = port or free_port()
    env = app_env(url, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers),
                  GUNICORN_THREADS=str(threads), GUNICORN_ACCESSLOG="-" if accesslog else "",
                  GUNICORN_LOGLEVEL="warning")
    log = open(ROOT / "bench" / "results" / "gunicorn.log", "a")
    proc = subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield BenchServer(base=base, database_url=url, proc=proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--duration", type=float, default=600, help="seconds to serve (max 3600)")
    parser.add_argument("--database", default="tracker_bench")
    parser.add_argument("--no-seed", action="store_true", help="keep the data already in the database")
    parser.add_argument("--accesslog", action="store_true")
    args = parser.parse_args()
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    with bench_server(args.workers, args.threads, args.port, args.database, not args.no_seed,
                      args.accesslog) as srv:
        print(f"serving {srv.base} ({args.workers} workers, database {args.database}); "
              f"logins demo users / demo1234; Ctrl-C stops", flush=True)
        try:
            time.sleep(min(args.duration, 3600))
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
