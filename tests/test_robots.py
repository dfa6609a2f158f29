"""Group robots (issue 12, SPEC 6.3) against a loopback server that plays WeCom, DingTalk and Feishu:
signatures checked as documented, success, errcode failures, rate limits, 500s, timeouts, dropped
connections, redirects; a replayed month delivers each message once per channel; two concurrent senders
deliver nothing twice; an outage loses nothing."""
from __future__ import annotations

import json
import logging
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.vendor_server import DING_SECRET, FEISHU_SECRET, WECOM_KEY, VendorServer
from tracker.extensions import db
from tracker.models import Notification, Unit, Webhook
from tracker.notify.channels import fan_out, find_owner
from tracker.notify.compose import Entry, Message, Section
from tracker.notify.outbox import deliver_queued, enqueue
from tracker.notify.reminders import send_reminders
from tracker.operations.seed import seed

DAY = date(2024, 7, 1)
NOW = datetime(2024, 7, 1, 0, 30)
KINDS = ("wecom", "dingtalk", "feishu")
SECRETS = {"wecom": None, "dingtalk": DING_SECRET, "feishu": FEISHU_SECRET}


@pytest.fixture
def vendor():
    server = VendorServer().start()
    yield server
    server.stop()


def robot_app(tmp_path, monkeypatch, **extra):
    config = dict(WEBHOOK_ALLOW_HOSTS="127.0.0.1", WEBHOOK_TIMEOUT=3, WEBHOOK_FEISHU_INTERVAL=0,
                  MAIL_MAX_ATTEMPTS=3, MAIL_RETRY_SECONDS=300)
    config.update(extra)
    app = make_app(tmp_path, monkeypatch, **config)
    with app.app_context():
        seed()
    return app


@pytest.fixture
def app(tmp_path, monkeypatch):
    app = robot_app(tmp_path, monkeypatch)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def set_robots(app, vendor, owner="区司法局", kinds=KINDS):
    runner = app.test_cli_runner()
    for kind in kinds:
        args = ["set-webhook", owner, kind, vendor.url(kind)]
        if SECRETS[kind]:
            args += ["--secret", SECRETS[kind]]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert SECRETS[kind] is None or SECRETS[kind] not in result.output


def robot_rows(kind=None):
    query = select(Notification).where(Notification.channel != "email").order_by(Notification.id)
    if kind:
        query = query.where(Notification.channel == kind)
    return db.session.execute(query).scalars().all()


def canon(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


def assert_each_sent_once(vendor, kind):
    """What the vendor accepted is exactly the sent rows' payloads: nothing twice, nothing missing."""
    sent = sorted(canon(json.loads(r.body_text)) for r in robot_rows(kind) if r.state == "sent")
    assert sorted(canon(p) for p in vendor.received[kind]) == sent


def test_reminder_digest_reaches_each_vendor_signed(app, vendor):
    set_robots(app, vendor)
    set_robots(app, vendor, owner="bureau")
    with app.app_context():
        result = send_reminders(DAY, NOW)
        rows = robot_rows()
        assert rows and all(r.state == "sent" for r in rows), [(r.subject, r.last_error) for r in rows]
        assert result.unit_emails > 0 and result.robot_messages == len(rows)
        for kind in KINDS:
            assert_each_sent_once(vendor, kind)
            keys = {r.dedupe_key for r in robot_rows(kind)}
            unit = find_owner("区司法局")
            assert f"unit:{unit.id}:daily:{DAY.isoformat()}:{kind}" in keys
            assert f"bureau:digest:{DAY.isoformat()}:{kind}" in keys
        # the documented shapes
        wecom = vendor.received["wecom"][0]
        assert wecom["msgtype"] == "markdown" and wecom["markdown"]["content"].startswith("## 【")
        ding = vendor.received["dingtalk"][0]
        assert ding["msgtype"] == "markdown" and ding["markdown"]["title"].startswith("【")
        feishu = vendor.received["feishu"][0]
        assert feishu["msg_type"] == "post" and feishu["content"]["post"]["zh_cn"]["content"]
        assert "/tasks/" in json.dumps(feishu)
        # the outbox names the robot, never its URL or secret
        assert all(WECOM_KEY not in r.recipients + r.body_text for r in rows)


def test_wrong_secret_is_refused_by_the_vendor_and_retried(app, vendor):
    set_robots(app, vendor, kinds=("dingtalk", "feishu"))
    with app.app_context():
        for hook in db.session.execute(select(Webhook)).scalars():
            hook.secret = "SECwrong"
        db.session.commit()
        send_reminders(DAY, NOW)
        rows = robot_rows()
        assert rows and all(r.state == "queued" and r.attempts == 1 for r in rows)
        assert {r.channel: r.last_error for r in rows}["dingtalk"].startswith("钉钉拒绝：errcode=310000")
        assert "code=19021" in {r.channel: r.last_error for r in rows}["feishu"]
        assert vendor.received == {"wecom": [], "dingtalk": [], "feishu": []}


@pytest.mark.parametrize("mode, expected", [
    ("error", "拒绝"), ("500", "HTTP 500"), ("hang", "超时"), ("drop", "连接"), ("redirect", "重定向"),
])
def test_failures_stay_queued_with_backoff_then_go_out(app, vendor, mode, expected):
    set_robots(app, vendor)
    for kind in KINDS:
        vendor.plan(kind, *[mode] * 50)
    with app.app_context():
        send_reminders(DAY, NOW, deliver=False)
        first = deliver_queued(NOW)
        rows = robot_rows()
        assert first.sent == len(db.session.execute(select(Notification).where(Notification.channel == "email")).all())
        for row in rows:
            assert row.state == "queued" and row.attempts == 1, (row.channel, row.last_error)
            assert expected in row.last_error, row.last_error
            assert row.next_attempt_at == NOW + timedelta(seconds=300)
        assert deliver_queued(NOW + timedelta(seconds=299)).sent == 0  # backoff respected
        vendor.script = {k: [] for k in KINDS}
        deliver_queued(NOW + timedelta(seconds=300))
        assert all(r.state == "sent" for r in robot_rows())
        for kind in KINDS:
            assert_each_sent_once(vendor, kind)


def test_vendor_rate_limit_answer_waits_for_the_penalty(app, vendor):
    set_robots(app, vendor)
    for kind in KINDS:
        vendor.plan(kind, "ratelimit")
    with app.app_context():
        send_reminders(DAY, NOW)
        by_kind = {}
        for row in robot_rows():
            if row.attempts == 1 and row.state == "queued":
                by_kind[row.channel] = row
        assert set(by_kind) == set(KINDS)
        assert "限流" in by_kind["wecom"].last_error and "45009" in by_kind["wecom"].last_error
        assert "130101" in by_kind["dingtalk"].last_error and "11232" in by_kind["feishu"].last_error
        # DingTalk blocks a robot for 10 minutes: the retry waits that long, not the 300 s backoff
        assert by_kind["dingtalk"].next_attempt_at == NOW + timedelta(seconds=600)
        assert by_kind["wecom"].next_attempt_at == NOW + timedelta(seconds=300)


def test_client_side_budget_keeps_under_20_per_minute(app, vendor):
    set_robots(app, vendor, kinds=("wecom",))
    with app.app_context():
        hook = db.session.execute(select(Webhook)).scalar_one()
        unit = find_owner("区司法局")
        for n in range(25):
            fan_out(key=f"test:{n}", unit_id=unit.id, rule="reminders", kind="unit_daily",
                    message=Message(title=f"消息{n}"), webhooks=[hook])
        db.session.commit()
        result = deliver_queued(NOW)
        assert result.sent == 18 and len(vendor.received["wecom"]) == 18
        waiting = [r for r in robot_rows() if r.state == "queued"]
        assert len(waiting) == 7 and all(r.attempts == 0 for r in waiting)
        assert deliver_queued(NOW + timedelta(seconds=59)).sent == 0
        assert deliver_queued(NOW + timedelta(seconds=61)).sent == 7
        assert_each_sent_once(vendor, "wecom")


def test_failed_after_max_attempts_shows_channel_and_resends(app, vendor):
    set_robots(app, vendor, kinds=("feishu",))
    vendor.plan("feishu", *["500"] * 20)
    with app.app_context():
        send_reminders(DAY, NOW, deliver=False)
        for step in (0, 300, 900):
            deliver_queued(NOW + timedelta(seconds=step))
        row = robot_rows("feishu")[0]
        assert row.state == "failed" and row.attempts == 3
    client = app.test_client()
    client.post("/login", data={"username": "dubanke", "password": "demo1234"})
    page = client.get("/outbox?state=failed&channel=feishu").get_data(as_text=True)
    assert "飞书" in page and "飞书群机器人·区司法局" in page and FEISHU_SECRET not in page
    assert client.post(f"/outbox/{row.id}/resend").status_code == 302
    vendor.script["feishu"] = []
    with app.app_context():
        deliver_queued(NOW + timedelta(days=1))
        assert db.session.get(Notification, row.id).state == "sent"
        assert_each_sent_once(vendor, "feishu")


def test_replayed_month_delivers_each_message_once_per_channel(app, vendor):
    set_robots(app, vendor)
    set_robots(app, vendor, owner="bureau")
    with app.app_context():
        for day in range(1, 32):
            today = date(2024, 7, day)
            now = datetime(2024, 7, day, 0, 30)
            send_reminders(today, now)
            send_reminders(today, now + timedelta(minutes=5))  # the same day again: nothing new
        emails = db.session.execute(select(Notification).where(Notification.channel == "email")).scalars().all()
        unit = find_owner("区司法局")
        email_keys = {r.dedupe_key for r in emails if r.unit_id == unit.id or r.kind == "bureau_digest"}
        for kind in KINDS:
            rows = robot_rows(kind)
            assert all(r.state == "sent" for r in rows)
            firsts = {r.dedupe_key[: -len(f":{kind}")] for r in rows if r.dedupe_key.endswith(f":{kind}")}
            assert firsts == email_keys  # one message per channel for every email of these recipients
            assert_each_sent_once(vendor, kind)


def _sender(app, now, results):
    with app.app_context():
        results.append(deliver_queued(now))
        db.session.remove()


def test_two_concurrent_senders_deliver_nothing_twice(app, vendor):
    set_robots(app, vendor)
    set_robots(app, vendor, owner="bureau")
    with app.app_context():
        for day in (1, 2, 3, 8, 15):
            send_reminders(date(2024, 7, day), datetime(2024, 7, day), deliver=False)
        total = len(robot_rows())
    results: list = []
    threads = [threading.Thread(target=_sender, args=(app, datetime(2024, 7, 16), results)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        assert all(r.state == "sent" for r in robot_rows())
        for kind in KINDS:
            assert_each_sent_once(vendor, kind)
        assert sum(len(v) for v in vendor.received.values()) == total


def test_outage_loses_nothing(app, vendor):
    set_robots(app, vendor)
    vendor.stop()  # the vendor is down: connection refused
    with app.app_context():
        send_reminders(DAY, NOW)
        rows = robot_rows()
        assert rows and all(r.state == "queued" and "无法连接" in r.last_error for r in rows)
    back = VendorServer(port=vendor.port).start()  # the vendor comes back on the same address
    try:
        with app.app_context():
            deliver_queued(NOW + timedelta(seconds=299))
            assert all(r.state == "queued" for r in robot_rows())  # still backing off
            deliver_queued(NOW + timedelta(seconds=300))
            assert all(r.state == "sent" for r in robot_rows())
            for kind in KINDS:
                assert_each_sent_once(back, kind)
    finally:
        back.stop()


def test_long_digest_is_split_into_numbered_parts_within_limits():
    from tracker.notify.render import render_parts

    entries = [Entry(f"{n}.1.1 推进行政执法事项清单动态调整第{n}项" * 2, f"https://t.example/tasks/{n}",
                     "完成时限：2024年6月底前；已逾期15天") for n in range(1, 121)]
    msg = Message(title="【督办日报】2024-07-01：新增逾期120项", intro="截至 2024-07-01：",
                  sections=[Section("新增逾期（120项）", entries)], closing="逾期清单")
    for kind, size in (("wecom", lambda p: len(p["markdown"]["content"].encode())),
                       ("dingtalk", lambda p: len(p["markdown"]["text"].encode())),
                       ("feishu", lambda p: len(json.dumps(p, ensure_ascii=False).encode()))):
        parts = render_parts(kind, msg)
        n = len(parts)
        assert n > 1
        text = json.dumps(parts, ensure_ascii=False)
        for i in range(1, n + 1):
            assert f"（{i}/{n}）" in text
        limit = 4096 if kind != "feishu" else 20 * 1024 - 256
        assert all(size(p) <= limit for p in parts)
        for e in entries:  # nothing cut: every entry's link in exactly one part
            assert text.count(f"{e.url})" if kind != "feishu" else f'"href": "{e.url}"') == 1
        assert "（续）" in text


@pytest.mark.parametrize("kind, url, ok", [
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", True),
    ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", False),
    ("wecom", "https://qyapi.weixin.qq.com.evil.cn/cgi-bin/webhook/send?key=abc", False),
    ("wecom", "https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=abc", False),
    ("wecom", "https://user@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", False),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", False),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc", True),
    ("dingtalk", "https://169.254.169.254/robot/send?access_token=abc", False),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", True),
    ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/", False),
    ("feishu", "http://127.0.0.1:8080/open-apis/bot/v2/hook/abc", False),
])
def test_only_vendor_hosts_over_https(kind, url, ok):
    from tracker.notify.webhooks import validate_url

    if ok:
        assert validate_url(kind, url) == url
    else:
        with pytest.raises(ValueError):
            validate_url(kind, url)


def test_allow_hosts_admits_loopback_over_http():
    from tracker.notify.webhooks import parse_allow_hosts, validate_url

    hosts = parse_allow_hosts("127.0.0.1, intranet.gov:8080")
    assert validate_url("feishu", "http://127.0.0.1:5000/open-apis/bot/v2/hook/x", hosts)
    assert validate_url("wecom", "http://intranet.gov:8080/cgi-bin/webhook/send?key=k", hosts)
    with pytest.raises(ValueError):
        validate_url("wecom", "http://intranet.gov:9090/cgi-bin/webhook/send?key=k", hosts)


def test_cli_errors_are_one_line_and_change_nothing(app, vendor):
    runner = app.test_cli_runner()
    for args in (["set-webhook", "区司法局", "wecom", "https://example.com/cgi-bin/webhook/send?key=1"],
                 ["set-webhook", "区司法局", "slack", vendor.url("wecom")],
                 ["set-webhook", "不存在的单位", "wecom", vendor.url("wecom")],
                 ["set-webhook", "区司法局", "dingtalk", vendor.url("dingtalk")],  # no secret
                 ["unset-webhook", "bureau", "feishu"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert result.output.strip().startswith("错误：") and len(result.output.strip().splitlines()) == 1
    with app.app_context():
        assert db.session.execute(select(Webhook)).first() is None
    assert runner.invoke(args=["set-webhook", "bureau", "wecom", vendor.url("wecom")]).exit_code == 0
    assert runner.invoke(args=["unset-webhook", "bureau", "wecom"]).exit_code == 0
    with app.app_context():
        assert db.session.execute(select(Webhook)).first() is None


def _login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "demo1234"}).status_code == 302
    return client


def test_admin_edits_robots_on_the_unit_page_secrets_masked(app, vendor, caplog):
    caplog.set_level(logging.DEBUG)
    admin = _login(app, "admin")
    with app.app_context():
        unit_id = find_owner("区司法局").id
    bad = admin.post(f"/units/{unit_id}/robots/dingtalk", data={"dingtalk-url": "https://evil.example/robot/send",
                                                                "dingtalk-secret": DING_SECRET})
    assert bad.status_code == 422 and "https://oapi.dingtalk.com" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Webhook)).first() is None
    ok = admin.post(f"/units/{unit_id}/robots/dingtalk", data={
        "dingtalk-url": vendor.url("dingtalk"), "dingtalk-secret": DING_SECRET,
        "dingtalk-send_reminders": "y", "dingtalk-send_urges": "y"})
    assert ok.status_code == 302
    with app.app_context():
        hook = db.session.execute(select(Webhook)).scalar_one()
        assert (hook.secret, hook.send_reminders, hook.send_urges, hook.send_events) == (DING_SECRET, True, True, False)
    # saving again with blanks keeps URL and secret
    assert admin.post(f"/units/{unit_id}/robots/dingtalk", data={"dingtalk-send_events": "y"}).status_code == 302
    with app.app_context():
        hook = db.session.execute(select(Webhook)).scalar_one()
        assert hook.secret == DING_SECRET and hook.url == vendor.url("dingtalk") and hook.send_events
    for page in (admin.get(f"/units/{unit_id}/robots"), admin.get(f"/admin/units/{unit_id}/edit"),
                 admin.get("/admin/audit")):
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and DING_SECRET not in html and "ding0123456789abcdef" not in html
    assert "钉钉" in admin.get(f"/admin/units/{unit_id}/edit").get_data(as_text=True)
    # the liaison of the unit tests it and sees the vendor's answer; another unit's liaison may not
    liaison = _login(app, "sfj")
    answer = liaison.post(f"/units/{unit_id}/robots/dingtalk/test", follow_redirects=True).get_data(as_text=True)
    assert "发送成功" in answer and "errcode" in answer and DING_SECRET not in answer
    assert vendor.received["dingtalk"][0]["markdown"]["title"].startswith("【测试消息】")
    vendor.plan("dingtalk", "error")
    answer = liaison.post(f"/units/{unit_id}/robots/dingtalk/test", follow_redirects=True).get_data(as_text=True)
    assert "发送失败" in answer and "310000" in answer
    assert liaison.post(f"/units/{unit_id}/robots/dingtalk").status_code == 403  # liaisons don't edit
    other = _login(app, "jtj")
    assert other.get(f"/units/{unit_id}/robots").status_code == 403
    assert other.post(f"/units/{unit_id}/robots/dingtalk/test").status_code == 403
    assert admin.post(f"/units/{unit_id}/robots/slack/test").status_code == 404
    assert admin.post(f"/units/{unit_id}/robots/dingtalk/delete").status_code == 302
    with app.app_context():
        assert db.session.execute(select(Webhook)).first() is None
    assert DING_SECRET not in caplog.text and "ding0123456789abcdef" not in caplog.text


def test_urge_goes_to_the_units_robot_even_without_email(app, vendor):
    set_robots(app, vendor, kinds=("wecom",))
    with app.app_context():
        unit = find_owner("区司法局")
        unit.emails = ""
        db.session.commit()
        unit_id = unit.id
    supervisor = _login(app, "dubanke")
    r = supervisor.post("/overdue/urge?today=2024-07-01", data={"unit_id": unit_id, "note": "请加快进度", "confirmed": "1"})
    assert r.status_code in (302, 303), r.status_code
    with app.app_context():
        rows = robot_rows("wecom")
        assert [r.kind for r in rows] == ["urge"]
        assert "请加快进度" in json.loads(rows[0].body_text)["markdown"]["content"]


def test_event_notices_reach_the_robots_that_take_them(app, vendor):
    """One notice, composed once: the email and the robots of the recipient that take 事件通知 say the same."""
    import re

    from tests.workflow import LEAD, measure, task_row, token_for

    set_robots(app, vendor, owner="区交通局", kinds=("wecom", "dingtalk"))
    set_robots(app, vendor, owner="bureau", kinds=("feishu",))
    with app.app_context():
        jtj = find_owner("区交通局").id
        ding = db.session.execute(select(Webhook).where(Webhook.kind == "dingtalk")).scalar_one()
        ding.send_events = False  # this robot takes reminders and urges only
        db.session.commit()
    task_id = measure(app, "jtj", LEAD)
    client, unit, bureau = app.test_client(), token_for(app, "jtj"), token_for(app, "dubanke")
    r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=unit, json={
        "status": "pending_review", "progress": 100, "narrative": "已完成", "problems": "", "next_steps": "",
        "version": task_row(app, task_id)["version"]})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/tasks/{task_id}/review", headers=bureau,
                    json={"decision": "return", "comment": "请补充整改前后对比照片"})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        rows = [r for r in robot_rows() if r.kind == "event"]
        keys = sorted(r.dedupe_key for r in rows)
        assert len(keys) == 2, keys
        assert re.fullmatch(r"event:claim:\d+:bureau:feishu", keys[0])
        assert re.fullmatch(rf"event:returned:\d+:unit:{jtj}:wecom", keys[1])
        email = db.session.execute(select(Notification).where(
            Notification.dedupe_key == keys[1].rsplit(":", 1)[0])).scalar_one()
        wecom = next(r for r in rows if r.channel == "wecom")
        assert wecom.subject == email.subject and email.subject.startswith("【退回】区交通局")
        email_text = email.body_text
        deliver_queued(NOW)
        assert all(r.state == "sent" for r in robot_rows())
        assert_each_sent_once(vendor, "wecom")
        assert_each_sent_once(vendor, "feishu")
    content = vendor.received["wecom"][0]["markdown"]["content"]
    for line in ("审核意见：请补充整改前后对比照片", "请按审核意见补充佐证材料或整改", f"/tasks/{task_id})"):
        assert line in content and line.rstrip(")") in email_text
    assert vendor.received["dingtalk"] == []
    assert "申请销号（待审核）" in json.dumps(vendor.received["feishu"][0], ensure_ascii=False)


def test_robots_and_email_show_the_same_digest_headings(app, vendor):
    """The digest is composed once: the robot shows the email's section headings."""
    import re

    set_robots(app, vendor, owner="bureau", kinds=("wecom",))
    with app.app_context():
        send_reminders(DAY, NOW, deliver=False)
        email = db.session.execute(select(Notification).where(
            Notification.kind == "bureau_digest", Notification.channel == "email")).scalar_one()
        robot = " ".join(json.loads(r.body_text)["markdown"]["content"] for r in robot_rows("wecom"))
    headings = re.findall(r"<h3>(.*?)</h3>", email.body_html)
    assert headings and all(f"**{h}**" in robot for h in headings)
