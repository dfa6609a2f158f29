"""Outbox delivery: outage and retry with backoff, refusals, dropped connections, timeouts,
failed after max attempts, resend from the outbox page, concurrent deliverers."""
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.conftest import TEST_DATABASE_URL, csrf_token_from, make_app
from tests.mailserver import (  # noqa: F401 (fixtures)
    SMTPServer,
    dropping_server,
    free_port,
    refusing_smtp_server,
    silent_server,
    smtp_server,
)
from tracker.extensions import db
from tracker.models import AuditLog, Notification
from tracker.notify.outbox import backoff, deliver_queued, enqueue
from tracker.notify.reminders import send_reminders
from tracker.operations.seed import seed

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2024, 7, 1, 0, 30)
DAY = date(2024, 7, 1)


def _app(tmp_path, monkeypatch, port, **extra):
    config = dict(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=2, MAIL_MAX_ATTEMPTS=3,
                  MAIL_RETRY_SECONDS=300)
    config.update(extra)
    app = make_app(tmp_path, monkeypatch, **config)
    with app.app_context():
        seed()
    return app


def _close(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _rows():
    return db.session.execute(select(Notification).order_by(Notification.id)).scalars().all()


def test_backoff_doubles():
    assert [backoff(n, 300).total_seconds() for n in (1, 2, 3, 4)] == [300, 600, 1200, 2400]
    assert backoff(30, 300) == timedelta(days=1)


def test_outage_then_server_comes_back(tmp_path, monkeypatch):
    port = free_port()  # nothing listens yet: connection refused
    app = _app(tmp_path, monkeypatch, port)
    try:
        with app.app_context():
            result = send_reminders(DAY, NOW)
            total = result.unit_emails + result.digests
            assert total > 0 and result.delivery.sent == 0 and result.delivery.retrying == total
            rows = _rows()
            assert all(r.state == "queued" and r.attempts == 1 for r in rows)
            assert all("无法连接" in r.last_error for r in rows)
            assert all(r.next_attempt_at == NOW + timedelta(seconds=300) for r in rows)

            server = SMTPServer(port=port).start()
            try:
                early = deliver_queued(NOW + timedelta(seconds=60))  # backoff not over: nothing is due
                assert early.sent == 0 and server.messages == []
                # The next run of the day sends everything; nothing is built twice.
                later = send_reminders(DAY, NOW + timedelta(seconds=301))
                assert later.unit_emails == 0 and later.delivery.sent == total
                assert sorted(server.keys()) == sorted(r.dedupe_key for r in _rows())
                assert all(r.state == "sent" and r.attempts == 2 for r in _rows())
                assert deliver_queued(NOW + timedelta(hours=2)).sent == 0
                assert len(server.messages) == total
            finally:
                server.stop()
    finally:
        _close(app)


def _one_email(key="test:one"):
    enqueue(dedupe_key=key, recipients=["jtj@tjbd.example.cn"], subject="【测试】一封邮件", body_text="正文",
            body_html="<p>正文</p>", kind="urge")
    db.session.commit()


def test_refused_until_failed_then_resend_from_outbox(tmp_path, monkeypatch, refusing_smtp_server):  # noqa: F811
    app = _app(tmp_path, monkeypatch, refusing_smtp_server.port, WTF_CSRF_ENABLED=True)
    try:
        with app.app_context():
            _one_email()
            now = NOW
            for attempt in (1, 2):
                r = deliver_queued(now)
                assert r.retrying == 1
                row = _rows()[0]
                assert row.state == "queued" and row.attempts == attempt and "550" in row.last_error
                now = row.next_attempt_at
            r = deliver_queued(now)
            assert r.failed == 1
            row = _rows()[0]
            assert row.state == "failed" and row.attempts == 3 and row.next_attempt_at is None
            assert deliver_queued(now + timedelta(days=3)).sent == 0  # failed stays failed
            row_id = row.id

        client = app.test_client()
        page = client.get("/login")
        client.post("/login", data={"username": "dubanke", "password": "demo1234",
                                    "csrf_token": csrf_token_from(page.text)})
        listing = client.get("/outbox?state=failed")
        assert listing.status_code == 200
        assert "【测试】一封邮件" in listing.text and "550" in listing.text and "重发" in listing.text
        assert client.post(f"/outbox/{row_id}/resend").status_code == 400  # no CSRF token
        token = csrf_token_from(listing.text)
        resp = client.post(f"/outbox/{row_id}/resend", data={"csrf_token": token}, follow_redirects=True)
        assert resp.status_code == 200 and "已重新加入发送队列" in resp.text
        with app.app_context():
            row = db.session.get(Notification, row_id)
            assert row.state == "queued" and row.attempts == 0
            assert db.session.scalar(select(func.count()).where(AuditLog.action == "notification_resend",
                                                                AuditLog.target_id == row_id)) == 1
        # Resending an email that is not failed is refused with a message, not a 500.
        again = client.post(f"/outbox/{row_id}/resend", data={"csrf_token": token}, follow_redirects=True)
        assert again.status_code == 200 and "只有发送失败的邮件可以重发" in again.text

        good = SMTPServer().start()
        try:
            app.config["MAIL_PORT"] = good.port
            with app.app_context():
                assert deliver_queued(NOW + timedelta(days=1)).sent == 1
            assert good.keys() == ["test:one"]
        finally:
            good.stop()
    finally:
        _close(app)


def test_dropped_mid_message_stays_queued(tmp_path, monkeypatch, dropping_server):  # noqa: F811
    app = _app(tmp_path, monkeypatch, dropping_server.port)
    try:
        with app.app_context():
            _one_email()
            r = deliver_queued(NOW)
            assert r.retrying == 1 and r.sent == 0
            row = _rows()[0]
            assert row.state == "queued" and row.attempts == 1 and row.last_error
    finally:
        _close(app)


def test_timeout_stays_queued(tmp_path, monkeypatch, silent_server):  # noqa: F811
    app = _app(tmp_path, monkeypatch, silent_server.port, MAIL_TIMEOUT=0.3)
    try:
        with app.app_context():
            _one_email()
            r = deliver_queued(NOW)
            assert r.retrying == 1
            assert "超时" in _rows()[0].last_error
    finally:
        _close(app)


def test_claimed_row_is_not_sent_twice_until_lease_expires(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    app = _app(tmp_path, monkeypatch, smtp_server.port, MAIL_LEASE_SECONDS=600)
    try:
        with app.app_context():
            _one_email()
            # Another process claimed it (state 'sending', lease until NOW+600s).
            db.session.execute(update(Notification).values(state="sending", next_attempt_at=NOW + timedelta(seconds=600)))
            db.session.commit()
            r = deliver_queued(NOW + timedelta(seconds=10))
            assert r.sent == 0 and smtp_server.messages == []
            # That process died: after the lease the email goes out.
            r = deliver_queued(NOW + timedelta(seconds=601))
            assert r.sent == 1 and smtp_server.keys() == ["test:one"]
    finally:
        _close(app)


def test_enqueue_duplicate_key_is_a_no_op(seeded):
    with seeded.app_context():
        assert enqueue(dedupe_key="k:1", recipients=["a@b.cn"], subject="s", body_text="t") is True
        assert enqueue(dedupe_key="k:1", recipients=["x@y.cn"], subject="other", body_text="t") is False
        db.session.commit()
        rows = _rows()
        assert len(rows) == 1 and rows[0].subject == "s"


def _run_concurrently(env: dict, days: list[str]) -> None:
    for day in days:
        procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "send-reminders", "--today", day],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, (out, err)


def _concurrent_case(tmp_path, monkeypatch, smtp_server, database_url):  # noqa: F811
    app = _app(tmp_path, monkeypatch, smtp_server.port)
    try:
        env = dict(os.environ, DATABASE_URL=database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_server.port),
                   TRACKER_INSTANCE_PATH=str(tmp_path / "instance"), PYTHONPATH=str(ROOT))
        _run_concurrently(env, ["2024-06-20"])  # the report-reminder day: ~20 unit emails and a digest
        with app.app_context():
            rows = _rows()
            keys = [r.dedupe_key for r in rows]
            assert len(keys) == len(set(keys)) and len(keys) > 20
            assert all(r.state == "sent" for r in rows)
            received = smtp_server.keys()
            assert sorted(received) == sorted(keys), "every email exactly once over SMTP"
            again = send_reminders(date(2024, 6, 20), NOW)  # and again: nothing new
            assert again.unit_emails == again.digests == again.delivery.sent == 0
        assert len(smtp_server.keys()) == len(received)
    finally:
        _close(app)


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite variant (TEST_DATABASE_URL points at PostgreSQL)")
def test_two_processes_at_once_sqlite(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    _concurrent_case(tmp_path, monkeypatch, smtp_server, f"sqlite:///{tmp_path / 'test.db'}")


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL not set: PostgreSQL tests skipped")
def test_two_processes_at_once_postgresql(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    _concurrent_case(tmp_path, monkeypatch, smtp_server, TEST_DATABASE_URL)


def test_each_row_goes_to_the_sender_of_its_channel(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    """E-mail rows go over SMTP; a row of a channel nobody sends fails at once, with the reason."""
    app = _app(tmp_path, monkeypatch, smtp_server.port)
    try:
        with app.app_context():
            _one_email()
            enqueue(dedupe_key="test:pigeon", recipients=["信鸽"], subject="【测试】未知渠道", body_text="{}",
                    channel="pigeon")
            db.session.commit()
            result = deliver_queued(NOW)
            assert (result.sent, result.failed) == (1, 1)
            by_key = {r.dedupe_key: r for r in _rows()}
            assert by_key["test:one"].state == "sent" and smtp_server.keys() == ["test:one"]
            odd = by_key["test:pigeon"]
            assert odd.state == "failed" and odd.attempts == 1 and odd.last_error == "未知的发送渠道：pigeon"
    finally:
        _close(app)
