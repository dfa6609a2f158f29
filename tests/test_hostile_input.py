"""Issue 9: junk sent to every route and parameter never answers 5xx and never changes the database.

The routes come from the URL map (new routes are swept automatically). Each route gets the junk below in
its path ids, its query string, its form fields and (API) its JSON body, as an anonymous visitor, a unit
liaison and an administrator; on PostgreSQL too when ``TEST_DATABASE_URL`` is set (the ``seeded`` fixture).
"""
from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy import String, Text, select, text
from werkzeug.datastructures import ImmutableMultiDict

from tests.test_routes_login import logged_in
from tests.workflow import LEAD, measure, task_row
from tracker.extensions import db

BIG = "x" * 10_240
JUNK = ["9223372036854775808", "2147483648", "-1", "²", "٣", "0", "", BIG, "\x00", "a\x01b", "名\x1f称",
        "2024-02-30", "0001-01-01", "9999-12-31", "1e3", " 12 ", "第\r\n二行"]
PATH_JUNK = ["9223372036854775808", "2147483648", "-1", "²", "٣", "0", "99999999999", "1.5"]
PARAMS = ["plan", "unit", "task", "page", "level", "min_days", "period", "today", "date_from", "date_to", "q",
          "status", "light", "filter", "state", "kind", "sort", "username", "action", "next"]
FORM_FIELDS = ["status", "progress", "narrative", "problems", "next_steps", "version", "decision", "comment",
               "back", "task_id", "unit_id", "note", "next", "username", "display_name", "email", "role", "unit",
               "password", "confirm", "current", "new", "full_name", "short_name", "kind", "emails", "active",
               "token", "filename", "title", "create_units", "replace"]
SKIP = {"static", "auth.login", "auth.logout"}
_VAR = re.compile(r"<(?:(\w+):)?(\w+)>")


def fill(rule, value: str) -> str:
    return _VAR.sub(lambda m: value if m.group(1) == "int" else "x", rule.rule)


def checksum(app) -> str:
    """Every row of every table (session bookkeeping and a token's last use aside), hashed."""
    digest = hashlib.sha256()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "session" in table.name:
                continue
            order = [c for c in table.primary_key.columns] or list(table.columns)
            columns = [c for c in table.columns if c.name != "last_used_at"]
            for row in db.session.execute(select(*columns).order_by(*order)):
                digest.update(repr(tuple(row)).encode("utf-8", "backslashreplace"))
        db.session.remove()
    return digest.hexdigest()


def quick_checksum(app) -> tuple:
    """Row counts of every table and the state of tasks, units and users: what any write changes (every
    change also writes an audit row), cheap enough to take around each request."""
    with app.app_context():
        counts = tuple(db.session.execute(text(" UNION ALL ".join(
            f"SELECT '{t.name}', count(*) FROM {t.name}" for t in db.metadata.sorted_tables
            if "session" not in t.name))).all())
        tasks = db.session.execute(text("SELECT sum(version), sum(progress), count(latest_progress) FROM tasks")).one()
        units = db.session.execute(text("SELECT full_name, short_name, emails, active FROM units ORDER BY id")).all()
        users = db.session.execute(text("SELECT username, display_name, email, role, active, password_hash "
                                        "FROM users ORDER BY id")).all()
        db.session.remove()
    return tuple(map(tuple, counts)), tuple(tasks), tuple(map(tuple, units)), tuple(map(tuple, users))


def stored_control_characters(app) -> list[str]:
    """(table.column, value) of any stored text with a control character other than tab and newline."""
    bad = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, (String, Text)):
                    for value in db.session.execute(select(column)).scalars():
                        if isinstance(value, str) and bad.search(value):
                            found.append(f"{table.name}.{column.name}: {value[:40]!r}")
        db.session.remove()
    return found


def _assert_no_5xx(r, *where):
    assert r.status_code < 500, (r.status_code, *where)


class RecordingArgs(ImmutableMultiDict):
    """Query arguments that note which names a view asks for (to aim the junk at them)."""

    asked: set[str] = set()

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        RecordingArgs.asked.add(key)
        return super().get(key, default, type)

    def __getitem__(self, key):
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingArgs.asked.add(key)
        return super().__contains__(key)


def params_read(app, client, url: str) -> list[str]:
    """The query parameters a GET route reads (found by asking it once with none)."""
    original = app.request_class.parameter_storage_class
    app.request_class.parameter_storage_class = RecordingArgs
    RecordingArgs.asked = set()
    try:
        client.get(url)
    finally:
        app.request_class.parameter_storage_class = original
    return sorted(RecordingArgs.asked)


NUMERIC_JUNK = ["9223372036854775808", "²", "٣"]  # every parameter gets these, plus rotating others


def sweep(app, client, who: str) -> int:
    """Junk in path ids, in every query parameter a route reads and in the form fields of every POST
    route; returns the number of requests."""
    sent = 0
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]
    rotation = 0
    for rule in rules:
        for method in sorted(rule.methods & {"GET", "POST"}):
            if "<int:" in rule.rule:
                for junk in PATH_JUNK:
                    r = client.open(fill(rule, junk), method=method)
                    sent += 1
                    _assert_no_5xx(r, who, method, rule.rule, junk)
                    if who != "anonymous":
                        assert r.status_code in (403, 404, 405), (who, method, fill(rule, junk), r.status_code)
            url = fill(rule, "1")
            if who == "anonymous":
                for junk in JUNK[:3]:  # everything is a redirect to the login page or a 401 anyway
                    r = client.open(url, method=method, query_string={"today": junk}, data={"x": junk})
                    sent += 1
                    _assert_no_5xx(r, who, method, url, junk)
                continue
            if method == "GET":
                r = client.get(url, query_string={"zz\x00": "1"})  # a NUL in a parameter's name
                sent += 1
                _assert_no_5xx(r, who, url)
                for name in params_read(app, client, url):
                    # The number killers everywhere, the rest of the junk rotating over the parameters.
                    rotation += 1
                    for junk in NUMERIC_JUNK + [JUNK[rotation % len(JUNK)]]:
                        r = client.get(url, query_string={name: junk})
                        sent += 1
                        _assert_no_5xx(r, who, url, name, junk)
                continue
            # A wrong current password is a failed login and is counted on purpose.
            check = rule.endpoint != "account.password"
            for i, junk in enumerate(JUNK[rotation % 2::2]):  # half the junk, alternating per route
                rotation += 1
                before = quick_checksum(app) if check else None
                form = {name: junk for name in FORM_FIELDS}
                r = client.post(url, query_string={PARAMS[i % len(PARAMS)]: junk}, data=form)
                sent += 1
                _assert_no_5xx(r, who, url, junk)
                if check and r.status_code >= 400:  # refused: nothing may have been written
                    assert quick_checksum(app) == before, (who, url, junk, r.status_code)
    return sent


def test_every_route_survives_junk(seeded):
    """Anonymous, a unit liaison and the administrator: no 5xx, nothing written, no control character stored."""
    start = checksum(seeded)
    total = sweep(seeded, seeded.test_client(), "anonymous")
    assert checksum(seeded) == start
    for username in ("jtj", "admin"):
        client = logged_in(seeded, username)
        total += sweep(seeded, client, username)
    assert total > 800
    assert stored_control_characters(seeded) == []


def test_api_writes_refuse_junk_before_writing(seeded):
    """Every field of a progress report and of a review, one at a time, plus hostile bodies: 4xx, no write."""
    from tests.workflow import token_for

    task_id = measure(seeded, "jtj", LEAD)
    version = task_row(seeded, task_id)["version"]
    unit = token_for(seeded, "jtj")
    boss = token_for(seeded, "dubanke")
    client = seeded.test_client()
    good = {"status": "in_progress", "progress": 40, "narrative": "按计划推进", "problems": "", "next_steps": "",
            "version": version}
    json_junk = JUNK + [2**63, 2**31, -1, 1.5, True, None, [], {}, [[[]]], "\ud800", "\ufffe"]
    before = checksum(seeded)
    for field in good:
        for junk in json_junk:
            plain_text = isinstance(junk, str) and not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe]", junk)
            if field in ("problems", "next_steps") and (plain_text or junk is None):
                continue  # ordinary (if odd) or no text is a valid report
            if (field == "narrative" and plain_text and junk.strip()) or (field == "progress" and junk in ("0", " 12 ")):
                continue
            body = dict(good, **{field: junk})
            r = client.post(f"/api/v1/tasks/{task_id}/updates", headers=unit, data=json.dumps(body),
                            content_type="application/json")
            assert 400 <= r.status_code < 500 and r.is_json, (field, junk, r.status_code)
            assert "invalid literal" not in r.get_data(as_text=True)
    hostile = [b"[" * 100_000, b"{\"a\":" * 50_000, ("[" * 30 + "1" + "]" * 30).encode(),
               b"\xff\xfe", b"{" + b" " * (2 * 1024 * 1024) + b"}", json.dumps(good).encode() + b"\x00"]
    for raw in hostile:
        for url, headers in ((f"/api/v1/tasks/{task_id}/updates", unit), (f"/api/v1/tasks/{task_id}/review", boss)):
            r = client.post(url, headers=headers, data=raw, content_type="application/json")
            assert 400 <= r.status_code < 500 and r.is_json, (url, raw[:20], r.status_code)
    # A bad ?today= on a write is refused before anything is saved (it used to save and then answer 422).
    for query in ("?today=2024-02-30", "?today=bogus", "?today=0001-01-01", "?today=²"):
        r = client.post(f"/api/v1/tasks/{task_id}/updates{query}", headers=unit, json=good)
        assert r.status_code == 422 and "today" in r.get_json()["errors"], query
        r = client.post(f"/api/v1/tasks/{task_id}/review{query}", headers=boss, json={"decision": "reopen"})
        assert r.status_code == 422, query
    assert checksum(seeded) == before
    # A good ?today= on a write is ignored: the report records the app's clock, not the replayed day.
    r = client.post(f"/api/v1/tasks/{task_id}/updates?today=2030-01-01", headers=unit, json=good)
    assert r.status_code == 201
    assert task_row(seeded, task_id)["period"] == "2024-07"


def test_urge_ignores_today_in_the_query(seeded):
    """Three urges with three replayed days queue one email, dated by the app's clock."""
    from tracker.models import Notification, TaskEvent, Unit

    client = logged_in(seeded, "dubanke")
    with seeded.app_context():
        unit_id = db.session.execute(select(Unit.id).where(Unit.short_name == "区市场监管局")).scalar_one()
    for day in ("2030-01-01", "2030-01-02", "2019-01-01"):
        r = client.post(f"/overdue/urge?today={day}", data={"unit_id": str(unit_id), "confirmed": "1"})
        assert r.status_code == 302
    r = client.post("/overdue/urge?today=2024-02-30", data={"unit_id": str(unit_id), "confirmed": "1"})
    assert r.status_code == 422
    with seeded.app_context():
        keys = db.session.execute(select(Notification.dedupe_key)).scalars().all()
        assert keys == [f"urge:unit:{unit_id}:2024-07-01"]
        dates = set(db.session.execute(select(TaskEvent.event_date).where(TaskEvent.kind == "urge")).scalars())
        assert {d.isoformat() for d in dates} == {"2024-07-01"}


def test_control_characters_are_field_errors_on_sqlite_and_postgres(seeded):
    """NUL and friends: a field error naming the field (no 500 on PostgreSQL, nothing stored on SQLite)."""
    client = logged_in(seeded, "admin")
    task_id = measure(seeded, "jtj", LEAD)
    version = task_row(seeded, task_id)["version"]
    before = checksum(seeded)
    r = client.post(f"/tasks/{task_id}/updates", data={"status": "in_progress", "progress": "40",
                                                       "narrative": "进展\x00", "version": str(version)})
    assert r.status_code == 422 and "进展情况含有不允许的控制字符（U+0000）" in r.get_data(as_text=True)
    for name in ("单位\r\n名称", "单位\n名称", "单位\u2028名称", "单位\x01"):
        r = client.post("/admin/units/new", data={"full_name": name, "short_name": "简称", "kind": "区直部门"})
        assert r.status_code == 422 and "单位全称" in r.get_data(as_text=True), name
    r = client.post("/admin/users/new", data={"username": "newbie", "display_name": "新\x00人", "role": "viewer",
                                              "password": "long-enough-1"})
    assert r.status_code == 422 and "显示名称含有不允许的控制字符" in r.get_data(as_text=True)
    r = client.get("/ledger", query_string={"q": "a\x00"})
    assert r.status_code == 422 and "关键词含有不允许的控制字符" in r.get_data(as_text=True)
    api = client.get("/api/v1/tasks", query_string={"unit": "\x00"})
    assert api.status_code == 422 and "unit" in api.get_json()["errors"]
    assert checksum(seeded) == before
    with seeded.app_context():
        assert db.session.execute(text("SELECT count(*) FROM units WHERE full_name LIKE '单位%'")).scalar() == 0
