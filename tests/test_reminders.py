"""Reminder emails over a simulated month, delivered to a real SMTP server (aiosmtpd)."""
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app, seeded_app
from tests.mailserver import smtp_server  # noqa: F401 (fixture)
from tracker.extensions import db
from tracker.models import Notification, Task, Unit
from tracker.notify.reminders import send_reminders
from tracker.operations.seed import seed

NOW = datetime(2024, 7, 1, 0, 30)  # naive UTC = 08:30 in Shanghai


def days(start: date, end: date):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


@pytest.fixture
def mail_app(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    with seeded_app(tmp_path, monkeypatch, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, MAIL_TIMEOUT=5) as app:
        yield app


def unit_id(name: str) -> int:
    return db.session.execute(select(Unit.id).where(Unit.short_name == name)).scalar_one()


def text_of(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html_of(msg) -> str:
    return msg.get_body(("html",)).get_content()


def test_simulated_month_one_email_per_unit_per_day_no_duplicates(mail_app, smtp_server):  # noqa: F811
    start, end = date(2024, 6, 1), date(2024, 7, 31)
    with mail_app.app_context():
        sfj = unit_id("区司法局")
        jtj = unit_id("区交通局")
        # A measure of 区司法局 due 2024-06-30 (T-15 = 06-15, T-7 = 06-23, T-1 = 06-29, overdue 07-01, 07-08 …).
        june = db.session.execute(
            select(Task).where(Task.deadline == date(2024, 6, 30), Task.code == "13")).scalar_one()
        assert [u.short_name for u in june.lead_units] == ["区司法局"]
        for day in days(start, end):
            if day == date(2024, 6, 22):
                # 区交通局 reports June's progress for all its measures before the due day.
                for task in db.session.execute(select(Task).where(Task.is_leaf.is_(True))).scalars():
                    if jtj in {u.id for u in task.lead_units}:
                        task.last_report_period = "2024-06"
                db.session.commit()
            result = send_reminders(day, datetime.combine(day, datetime.min.time()) + timedelta(hours=1))
            assert not result.errors
            assert result.delivery.failed == 0 and result.delivery.retrying == 0
        rows = db.session.execute(select(Notification)).scalars().all()
        keys = [r.dedupe_key for r in rows]
        assert len(keys) == len(set(keys))
        assert all(r.state == "sent" and r.attempts == 1 for r in rows)
        per_unit_day = defaultdict(int)
        for r in rows:
            if r.kind == "unit_daily":
                per_unit_day[(r.unit_id, r.dedupe_key.rsplit(":", 1)[1])] += 1
        assert set(per_unit_day.values()) == {1}

        # SMTP got every email exactly once.
        assert sorted(smtp_server.keys()) == sorted(keys)

        by_key = {m["X-Tracker-Dedupe-Key"]: (rcpt, m) for rcpt, m in smtp_server.messages}

        def sfj_mail(day):
            return by_key.get(f"unit:{sfj}:daily:{day.isoformat()}")

        for day, section in [(date(2024, 6, 15), "临期"), (date(2024, 6, 23), "临期"), (date(2024, 6, 29), "临期"),
                             (date(2024, 7, 1), "逾期"), (date(2024, 7, 8), "逾期"), (date(2024, 7, 15), "逾期")]:
            rcpt, msg = sfj_mail(day)
            body = text_of(msg)
            assert june.title in body, day
            assert f"【{section}】" in body
            assert f"http://127.0.0.1:5000/tasks/{june.id}" in body
            assert sorted(rcpt) == ["sfj@tjbd.example.cn", "sfjzfjdk@tjbd.example.cn"]
        for day in days(date(2024, 7, 2), date(2024, 7, 7)):
            # Not a trigger day for this measure: it appears only as part of a full overdue list
            # (an email whose 逾期 section lists every overdue measure of the unit).
            mail = sfj_mail(day)
            assert mail is None or june.title not in text_of(mail[1]) or "【逾期】" in text_of(mail[1])
        rcpt, msg = sfj_mail(date(2024, 7, 1))
        assert msg["Subject"].startswith("【逾期提醒】区司法局：") and "项任务已逾期" in msg["Subject"]

        # The 20th: report reminders; 区交通局 reported June before the 26th, so no missing notice then.
        _r, june20 = sfj_mail(date(2024, 6, 20))
        assert "【本月进展待报送】" in text_of(june20) and "请于6月25日前报送2024-06进展" in text_of(june20)
        assert f"unit:{jtj}:daily:2024-06-20" in by_key
        assert f"unit:{jtj}:daily:2024-06-26" not in by_key
        assert "逾期未报送" in text_of(sfj_mail(date(2024, 6, 26))[1])
        report_units_0620 = {k for k in by_key if k.endswith(":daily:2024-06-20")}
        report_units_0720 = {k for k in by_key if k.endswith(":daily:2024-07-20")}
        assert len(report_units_0620) > 20 and len(report_units_0720) > 20

        # No empty emails: every unit email lists at least one task link.
        for key, (_rcpt, msg) in by_key.items():
            assert "/tasks/" in text_of(msg) or key.startswith("bureau:"), key

        # The digest goes to the supervisor (no BUREAU_EMAILS configured).
        rcpt, digest = by_key["bureau:digest:2024-07-01"]
        assert rcpt == ["duban@tjbd.example.cn"]
        assert digest["Subject"].startswith("【督办日报】2024-07-01：新增逾期")
        assert june.title in text_of(digest)
        assert "逾期超过30天" in text_of(digest)

        # Reruns of the whole range create and send nothing.
        sent_before = len(smtp_server.messages)
        for day in (date(2024, 6, 20), date(2024, 7, 1), date(2024, 7, 8)):
            again = send_reminders(day, NOW + timedelta(days=40))
            assert again.unit_emails == 0 and again.digests == 0 and again.duplicates > 0
        assert db.session.scalar(select(func.count(Notification.id))) == len(keys)
        assert len(smtp_server.messages) == sent_before


def test_markup_in_title_is_escaped_in_html(mail_app, smtp_server):  # noqa: F811
    with mail_app.app_context():
        task = db.session.execute(select(Task).where(Task.deadline == date(2024, 6, 30), Task.code == "13")).scalar_one()
        task.title = '<script>alert("x")</script> & <b>粗体</b>'
        db.session.commit()
        send_reminders(date(2024, 7, 1), NOW)
    messages = [m for _r, m in smtp_server.messages if "区司法局" in m["Subject"]]
    assert messages
    html = html_of(messages[0])
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;粗体&lt;/b&gt;" in html
    assert "<script>" not in html and "<b>粗体" not in html
    assert '<script>alert("x")</script>' in text_of(messages[0])


def test_unit_without_liaison_email_is_reported_in_digest(mail_app, smtp_server):  # noqa: F811
    with mail_app.app_context():
        unit = db.session.execute(select(Unit).where(Unit.short_name == "区交通局")).scalar_one()
        unit.emails = ""
        db.session.commit()
        result = send_reminders(date(2024, 7, 1), NOW)
        assert "区交通局" in result.no_email_units and not result.errors
        assert db.session.scalar(select(func.count()).where(Notification.unit_id == unit.id)) == 0
    digest = [m for _r, m in smtp_server.messages if m["X-Tracker-Dedupe-Key"] == "bureau:digest:2024-07-01"][0]
    assert "未设置联络邮箱的单位" in text_of(digest) and "区交通局" in text_of(digest)
    assert "无联络邮箱" in digest["Subject"]


def test_bureau_emails_setting_wins(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    app = make_app(tmp_path, monkeypatch, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                   BUREAU_EMAILS="a@bureau.cn; b@bureau.cn")
    with app.app_context():
        seed()
        send_reminders(date(2024, 7, 1), NOW)
        digest = db.session.execute(select(Notification).where(Notification.kind == "bureau_digest")).scalar_one()
        assert digest.recipients == "a@bureau.cn;b@bureau.cn"
        db.session.remove()
        db.engine.dispose()


def test_quiet_day_sends_no_empty_email(mail_app, smtp_server):  # noqa: F811
    with mail_app.app_context():
        for task in db.session.execute(select(Task).where(Task.is_leaf.is_(True))).scalars():
            task.status = "done"
            for period in task.periods:  # a recurring measure: every period done
                period.status = "done"
        db.session.commit()
        result = send_reminders(date(2024, 7, 1), NOW)
        assert result.unit_emails == 0 and result.digests == 0
        assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert smtp_server.messages == []


def test_cli_send_reminders(mail_app, smtp_server):  # noqa: F811
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["send-reminders", "--today", "2024-07-01"])
    assert result.exit_code == 0, result.output
    assert "新建单位提醒" in result.output and "发送" in result.output
    again = runner.invoke(args=["send-reminders", "--today", "2024-07-01"])
    assert again.exit_code == 0 and "新建单位提醒 0 封" in again.output
    bad = runner.invoke(args=["send-reminders", "--today", "2024-02-30"])
    assert bad.exit_code != 0
    assert bad.output.strip().startswith("错误：") and "\n" not in bad.output.strip()


def test_no_mail_server_writes_eml_files(seeded, tmp_path):
    with seeded.app_context():
        result = send_reminders(date(2024, 7, 1), NOW)
        assert result.delivery.sent == result.unit_emails + result.digests > 0
        files = sorted((tmp_path / "mail").glob("*.eml"))
        assert len(files) == result.delivery.sent
        assert all(r.state == "sent" for r in db.session.execute(select(Notification)).scalars())
    assert any(f.name.startswith("bureau_digest_2024-07-01") for f in files)


def test_template_error_is_one_clear_line_and_keeps_others(mail_app, smtp_server, monkeypatch):  # noqa: F811
    from jinja2 import TemplateSyntaxError

    import tracker.notify.email as email_channel

    real = email_channel._render

    def broken(name, **ctx):
        if name == "bureau_digest":
            raise TemplateSyntaxError("unexpected '}'", 3)
        return real(name, **ctx)

    monkeypatch.setattr(email_channel, "_render", broken)
    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["send-reminders", "--today", "2024-07-01"])
    assert result.exit_code != 0 and "bureau_digest" in result.output and "Traceback" not in result.output
    with mail_app.app_context():
        kinds = set(db.session.execute(select(Notification.kind)).scalars())
    assert kinds == {"unit_daily"}  # the unit emails were not lost
    monkeypatch.setattr(email_channel, "_render", real)
    fixed = runner.invoke(args=["send-reminders", "--today", "2024-07-01"])
    assert fixed.exit_code == 0 and "督办日报 1 封" in fixed.output
