"""Real gunicorn for tests: start it on a free loopback port against a test database, stop it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tracker import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_env(database_url: str, tmp_path: Path, **extra) -> dict:
    """The environment of a production-like process: a real SECRET_KEY, no development or test switches."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FLASK_DEBUG", "TRACKER_ENV", "MAIL_SERVER") and not k.startswith("TRACKER_TEST_")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="gunicorn-test-secret-0123456789abcdef",
               TRACKER_INSTANCE_PATH=str(tmp_path / "instance"))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_gunicorn(env: dict, workers: int = 2, boot_seconds: float = 180, app: str = "wsgi:app"):
    """(process, base URL) once gunicorn answers /login; AssertionError with its output otherwise.

    ``boot_seconds`` only bounds a hung start: a busy shared machine may take long to boot workers.
    ``app`` is gunicorn's application spec (the fault tests load ``tests.fault_app:app``)."""
    port = free_port()
    env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(workers), GUNICORN_ACCESSLOG="")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + boot_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("gunicorn exited:\n" + proc.stdout.read())
        try:
            urllib.request.urlopen(base + "/login", timeout=2).close()
            return proc, base
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.1)
    proc.kill()
    proc.communicate()
    raise AssertionError(f"gunicorn did not answer within {boot_seconds:.0f} s")


def stop(proc) -> str:
    """Stop gunicorn and return what it printed."""
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out
