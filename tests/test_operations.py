"""Operating it (SPEC 6.7): weak keys refused with one line, a scheduler that fails fast and keeps a
heartbeat, ``health``, files for the service user only, a clear page for a missing evidence file."""
from __future__ import annotations

import io
import logging
import os
import signal
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tracker import ROOT, create_app
from tracker.extensions import db
from tracker.models import Attachment, SchedulerHeartbeat, utcnow
from tracker.operations.heartbeat import beat, start_beat, stop_beat
from tracker.scheduler import Process, build_scheduler

from .conftest import base_config
from .test_attachments import PDF, upload
from .test_import import make_xlsx
from .workflow import LEAD, measure

STRONG_KEY = "0123456789abcdef0123456789abcdef-strong"


def cli_env(tmp_path: Path, **values) -> dict:
    """A production-like environment for ``flask --app wsgi``: no development switches, no dotenv files."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FLASK_DEBUG", "TRACKER_ENV", "SECRET_KEY", "DATABASE_URL") and not k.startswith("TRACKER_TEST_")}
    env.update(FLASK_SKIP_DOTENV="1", PYTHONUNBUFFERED="1", TRACKER_INSTANCE_PATH=str(tmp_path / "instance"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    env.update(values)
    return env


def flask(args, env, cwd=ROOT, timeout=60):
    return subprocess.run([sys.executable, "-m", "flask", "--app", str(ROOT / "wsgi.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


# --- SECRET_KEY ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["change-me", "x", "a-31-character-key-is-too-short"])
def test_weak_secret_key_is_refused_with_one_line(tmp_path, key):
    result = flask(["init-db"], cli_env(tmp_path, SECRET_KEY=key))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("错误：SECRET_KEY") and "secrets.token_hex(32)" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "cli.db").exists()


def test_a_strong_key_starts(tmp_path):
    result = flask(["init-db"], cli_env(tmp_path, SECRET_KEY=STRONG_KEY))
    assert result.returncode == 0, result.stderr
    assert "数据库已就绪" in result.stdout


def test_the_cli_after_make_run_uses_the_development_setting(tmp_path):
    """``make run`` writes .flaskenv (TRACKER_ENV=development): later commands there work with no key."""
    assert "TRACKER_ENV=development' > .flaskenv" in (ROOT / "Makefile").read_text()
    env = cli_env(tmp_path)
    del env["FLASK_SKIP_DOTENV"]
    project = tmp_path / "checkout"
    project.mkdir()
    without = flask(["init-db"], env, cwd=project)
    assert without.returncode != 0 and without.stderr.strip().startswith("错误：SECRET_KEY")
    assert "TRACKER_ENV=development" in without.stderr and "Traceback" not in without.stderr
    (project / ".flaskenv").write_text("TRACKER_ENV=development\n")
    result = flask(["init-db"], env, cwd=project)
    assert result.returncode == 0, result.stderr


# --- the scheduler process ----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["postgresql+psycopg://tracker@127.0.0.1:1/tracker", "sqlite:///{tmp}/empty.db"])
def test_scheduler_exits_at_once_without_a_database(tmp_path, url):
    env = cli_env(tmp_path, SECRET_KEY=STRONG_KEY, DATABASE_URL=url.format(tmp=tmp_path))
    # It must exit by itself: a scheduler that keeps running hits the subprocess bound (TimeoutExpired).
    # The bound is generous on purpose: starting Python alone can take 20 s on a busy 2-core machine.
    result = flask(["run-scheduler"], env, timeout=150)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("错误：调度器无法连接数据库，已退出："), result.stderr
    assert "autoflush" not in lines[-1]
    assert "Traceback" not in result.stderr and "调度器已启动" not in result.stdout


def test_scheduler_beats_logs_next_run_and_stops_on_sigterm(tmp_path):
    env = cli_env(tmp_path, SECRET_KEY=STRONG_KEY)
    assert flask(["init-db"], env).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run-scheduler", "--no-catch-up"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        for line in proc.stdout:  # wait for the start line (no sleeping)
            seen.append(line)
            if "调度器已启动" in line:
                break
        # The start line comes after the first heartbeat; health sees it.
        health = flask(["health"], env)
        assert health.returncode == 0, health.stderr
        assert health.stdout.startswith("正常：") and str(proc.pid) in health.stdout
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        out = proc.stdout.read()  # the same buffered reader: no line read ahead is lost
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    output = "".join(seen) + out
    assert proc.returncode == 0, output
    for expected in ("下次每日检查：", "收到 SIGTERM", "调度器已停止（SIGTERM）"):
        assert expected in output, output
    assert "Traceback" not in output
    health = flask(["health"], env)
    assert health.returncode != 0 and "没有运行中的调度器" in health.stderr


# --- heartbeat and health (time injected) -------------------------------------------------------

def test_health_needs_the_database_and_a_recent_heartbeat(app, runner):
    result = runner.invoke(args=["health"])
    assert result.exit_code != 0 and "没有运行中的调度器" in result.output
    result = runner.invoke(args=["health", "--no-scheduler"])
    assert result.exit_code == 0 and result.output.startswith("正常：数据库可连接")

    now = utcnow()
    with app.app_context():
        beat_id = start_beat("host-a", 4242, now - timedelta(minutes=10))
    result = runner.invoke(args=["health"])
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("错误：调度器心跳已 10 分钟未更新") and "4242" in line
    assert runner.invoke(args=["health", "--max-age", "900"]).exit_code == 0

    with app.app_context():
        beat(beat_id, now - timedelta(seconds=5), note="deliver")
    result = runner.invoke(args=["health"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("正常：") and "host-a" in result.output

    with app.app_context():
        stop_beat(beat_id, now)
    assert runner.invoke(args=["health"]).exit_code != 0


def test_health_fails_when_the_database_does_not_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**base_config(tmp_path),
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://tracker@127.0.0.1:1/tracker"})
    result = app.test_cli_runner().invoke(args=["health", "--no-scheduler"])
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[0].startswith("错误：数据库无法连接")


def test_heartbeat_records_the_next_run_and_a_dead_database_stops_the_scheduler(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'hb.db'}",
                      "SCHEDULER_MAX_FAILURES": 2})
    with app.app_context():
        db.create_all()
    process = Process(app, build_scheduler(app))
    now = utcnow()
    process.start("host-b", 77, now)
    later = now + timedelta(minutes=1)
    assert process.beat(now=later, note="heartbeat")
    with app.app_context():
        row = db.session.scalars(select(SchedulerHeartbeat)).one()
        assert (row.host, row.pid, row.beat_at) == ("host-b", 77, later)
        assert row.next_run_at is not None and row.next_run_at > now  # the next 08:30 Asia/Shanghai, in UTC
        db.session.execute(text("ALTER TABLE scheduler_heartbeats RENAME TO gone"))
        db.session.commit()
        db.session.remove()
    assert not process.beat(now=later) and process.exit_code == 0
    assert not process.beat(now=later) and process.exit_code == 1  # the 2nd failure in a row: exit non-zero
    with app.app_context():
        db.engine.dispose()


# --- files for the service user only ------------------------------------------------------------

def private(path: Path, mode: int) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == mode


def test_written_files_are_not_readable_by_others(seeded, client, auth, runner, tmp_path):
    old = os.umask(0o022)  # a permissive umask: the modes must not depend on it
    try:
        task_id = measure(seeded, "jtj", LEAD)
        auth.login("jtj")
        assert upload(client, seeded, task_id, [("a.pdf", PDF)]).status_code == 302
        auth.logout()
        assert runner.invoke(args=["send-reminders", "--today", "2024-07-20"]).exit_code == 0
        auth.login("admin")
        r = client.post("/import", data={"file": (io.BytesIO(make_xlsx()), "台账.xlsx")},
                        content_type="multipart/form-data")
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        archive = tmp_path / "b.tar.gz"
        assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    finally:
        os.umask(old)
    instance = Path(seeded.instance_path)
    folders = [Path(seeded.config["UPLOAD_FOLDER"]), Path(seeded.config["MAIL_FILE_FOLDER"]), instance / "imports",
               instance]
    files = [p for folder in folders[:3] for p in folder.iterdir()] + [archive]
    assert len(files) >= 4
    assert all(private(folder, 0o700) for folder in folders), [oct(f.stat().st_mode) for f in folders]
    assert all(private(p, 0o600) for p in files), {p.name: oct(p.stat().st_mode) for p in files}


# --- a missing evidence file ------------------------------------------------------------------

def test_missing_evidence_file_is_a_clear_page_and_logged(seeded, client, auth, caplog, monkeypatch):
    # An in-process Alembic run (init-db, restore) in an earlier test may have disabled existing loggers.
    monkeypatch.setattr(seeded.logger, "disabled", False)
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    assert upload(client, seeded, task_id, [("评查报告.pdf", PDF)]).status_code == 302
    with seeded.app_context():
        att = db.session.execute(select(Attachment)).scalar_one()
        (Path(seeded.config["UPLOAD_FOLDER"]) / att.storage_name).unlink()
        att_id = att.id
    with caplog.at_level(logging.ERROR, logger=seeded.logger.name):
        r = client.get(f"/attachments/{att_id}")
    page = r.get_data(as_text=True)
    assert r.status_code == 404
    assert "评查报告.pdf" in page and "缺失" in page and "备份" in page
    assert any("evidence file missing" in rec.getMessage() and str(att_id) in rec.getMessage()
               for rec in caplog.records)


def test_production_seed_can_leave_the_demo_liaison_addresses_out(app, runner):
    from tracker.models import Unit

    result = runner.invoke(args=["seed", "--no-demo-users", "--no-unit-emails"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        emails = db.session.scalars(select(Unit.emails)).all()
    assert len(emails) == 60 and set(emails) == {""}


def test_gunicorn_with_a_weak_key_stops_instead_of_respawning_workers(tmp_path):
    from .servers import free_port

    env = cli_env(tmp_path, SECRET_KEY="change-me", GUNICORN_BIND=f"127.0.0.1:{free_port()}", GUNICORN_WORKERS="1",
                  GUNICORN_ACCESSLOG="")
    proc = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "错误：SECRET_KEY 是开发用密钥或示例中的占位符" in output and "Traceback" not in output
