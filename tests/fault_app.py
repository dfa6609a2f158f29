"""The production app plus one fault hook, for tests/test_faults.py only (``gunicorn tests.fault_app:app``).

With ``TRACKER_TEST_SLOW_WRITE_SECONDS`` and ``TRACKER_TEST_SLOW_WRITE_PIDFILE`` set, the first
transaction that wrote a progress update and manages to create the pid file (one-shot:
``open(…, "x")``) flushes everything, writes its process id there and sleeps before its commit, so
the test can SIGKILL the worker with an uncommitted write in flight. The production code has no hook:
the pause is a SQLAlchemy session event installed here.
"""
from __future__ import annotations

import os
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.models import ProgressUpdate
from wsgi import app

SECONDS = float(os.environ["TRACKER_TEST_SLOW_WRITE_SECONDS"])
PID_FILE = os.environ["TRACKER_TEST_SLOW_WRITE_PIDFILE"]


@event.listens_for(Session, "after_flush")
def _note_progress_write(session, flush_context) -> None:
    if any(isinstance(obj, ProgressUpdate) for obj in session.new):
        session.info["progress_written"] = True


@event.listens_for(Session, "before_commit")
def _pause_before_commit(session) -> None:
    if not session.info.pop("progress_written", False):
        return
    try:
        with open(PID_FILE, "x", encoding="ascii") as fh:
            session.flush()
            fh.write(str(os.getpid()))
    except FileExistsError:
        return
    time.sleep(SECONDS)


__all__ = ["app"]
