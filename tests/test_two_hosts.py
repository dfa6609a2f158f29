"""Two app instances on one PostgreSQL behave as one (SPEC 6.5, issue 15).

Two real gunicorns, "host A" and "host B", each with its own instance folder (TRACKER_INSTANCE_PATH)
and TRACKER_EVIDENCE_STORE=database, on the test's PostgreSQL database; the test speaks plain HTTP to
them, with the cookies handled by hand so that nothing but the cookie carries a session from A to B:

* a file uploaded through A downloads byte-identical through B (and no instance folder holds it);
* a session opened on A works on B, and a logout on B ends it on A;
* wrong passwords split between A and B hit the one limit of the login throttle;
* a write through A is seen at once through B on pages B has cached (ledger search, task page, API).

SQLite is one host's file, so the test needs PostgreSQL (TEST_DATABASE_URL), as `.ci/run` gives it.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from tracker.accounts.login import PAIR_FREE_FAILURES
from tracker.extensions import db
from tracker.models import Attachment, EvidenceBlob, LoginAttempt

from .conftest import PASSWORD, TEST_DATABASE_URL, make_app
from .servers import gunicorn_env, start_gunicorn, stop
from .test_faults import database_url
from .workflow import LEAD, measure, unit_of

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                       reason="two hosts share one PostgreSQL: set TEST_DATABASE_URL to a PostgreSQL database"),
]
TIMEOUT = 120  # seconds for one request on a loaded machine: a bound on a hang, not a speed check


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass
class Answer:
    status: int
    headers: object
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Browser:
    """One user's browser: its cookies are sent to whichever host it asks (as behind a load balancer)."""

    cookies: dict = field(default_factory=dict)

    def request(self, base: str, path: str, *, form: dict | None = None, files: list | None = None) -> Answer:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if files is not None:
            boundary = secrets.token_hex(12)
            parts = []
            for name, value in (form or {}).items():
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                             .encode())
            for filename, content in files:
                parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                             f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                             + content + b"\r\n")
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(base + path, data=body, headers=headers, method="POST" if body else "GET")
        try:
            with _opener.open(req, timeout=TIMEOUT) as resp:
                answer = Answer(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, exc.headers, exc.read())
        for line in answer.headers.get_all("Set-Cookie") or ():
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=Thu, 01 Jan 1970" in line or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return answer

    def csrf(self, base: str, path: str = "/login") -> str:
        page = self.request(base, path)
        assert page.status == 200, (path, page.status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)

    def login(self, base: str, username: str, password: str = PASSWORD) -> Answer:
        token = self.csrf(base)
        return self.request(base, "/login", form={"username": username, "password": password, "csrf_token": token})


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    """(app for checks in the database, host A's base URL, host B's base URL, A's and B's instance folders)."""
    tmp = tmp_path_factory.mktemp("two-hosts")
    with pytest.MonkeyPatch.context() as mp:
        app = make_app(tmp / "test", mp)
        from tracker.operations.seed import seed

        with app.app_context():
            seed()
        url = database_url(app)
        env = {"TRACKER_EVIDENCE_STORE": "database", "GUNICORN_THREADS": 2}
        proc_a, base_a = start_gunicorn(gunicorn_env(url, tmp / "a", **env), workers=2)
        try:
            proc_b, base_b = start_gunicorn(gunicorn_env(url, tmp / "b", **env), workers=2)
        except BaseException:
            stop(proc_a)
            raise
        outputs = {}
        try:
            yield app, base_a, base_b, tmp / "a" / "instance", tmp / "b" / "instance"
        finally:
            outputs["A"], outputs["B"] = stop(proc_a), stop(proc_b)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    for name, out in outputs.items():  # shown with -s, and on a failure
        assert "Traceback" not in out, f"host {name} logged an error:\n{out}"


def task_form(browser: Browser, base: str, task_id: int) -> dict:
    """The report form's hidden fields (CSRF token, version) as the task page on ``base`` shows them."""
    page = browser.request(base, f"/tasks/{task_id}")
    assert page.status == 200, page.status
    form = page.text[page.text.index('action="/tasks/%d/updates"' % task_id):]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    version = re.search(r'name="version"[^>]*value="(\d+)"', form).group(1)
    return {"csrf_token": token, "version": version}


def test_a_file_uploaded_through_a_downloads_byte_identical_through_b(hosts):
    app, a, b, folder_a, folder_b = hosts
    task_id = measure(app, "jtj", LEAD, not_of="dktz")
    content = b"%PDF-1.4\n" + os.urandom(300_000) + b"\n%%EOF\n"  # random bytes: any change shows
    browser = Browser()
    assert browser.login(a, "jtj").status == 302
    fields = task_form(browser, a, task_id)
    r = browser.request(a, f"/tasks/{task_id}/updates", files=[("两台主机测试.pdf", content)], form={
        **fields, "status": "in_progress", "progress": "30", "narrative": "经主机 A 上传佐证材料",
        "problems": "", "next_steps": ""})
    assert r.status == 302, r.text[:2000]

    page = browser.request(b, f"/tasks/{task_id}")
    ids = re.findall(r"/attachments/(\d+)", page.text)
    assert page.status == 200 and ids, "host B's task page lists no evidence file"
    r = browser.request(b, f"/attachments/{ids[0]}")
    assert r.status == 200 and r.body == content
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    r = browser.request(a, f"/attachments/{ids[0]}")
    assert r.status == 200 and r.body == content
    for folder in (folder_a, folder_b):  # the bytes are in the database, not in either host's folder
        uploads = folder / "uploads"
        assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))
    with app.app_context():
        att = db.session.get(Attachment, int(ids[0]))
        blob = db.session.get(EvidenceBlob, att.id)
        assert blob is not None and bytes(blob.data) == content and att.size == len(content)
        db.session.remove()
    # Another unit is refused on either host.
    other = Browser()
    assert other.login(b, "dktz").status == 302
    assert other.request(a, f"/attachments/{ids[0]}").status == 403
    assert other.request(b, f"/attachments/{ids[0]}").status == 403


def test_a_session_opened_on_a_works_on_b_and_ends_on_both(hosts):
    app, a, b, _, _ = hosts
    browser = Browser()
    assert browser.login(a, "sfj").status == 302
    assert browser.cookies, "no session cookie from host A"
    page = browser.request(b, "/my-tasks")
    assert page.status == 200 and "区司法局联络员" in page.text  # B knows the user: no redirect to /login
    assert browser.request(b, "/login").status == 302  # already logged in on B
    api = browser.request(b, "/api/v1/plans")
    assert api.status == 200 and json.loads(api.body)

    stolen = dict(browser.cookies)  # a copy of the cookie taken before the logout
    token = browser.csrf(b, "/my-tasks")
    assert browser.request(b, "/logout", form={"csrf_token": token}).status == 302
    replay = Browser(cookies=stolen)
    r = replay.request(a, "/my-tasks")
    assert r.status == 302 and "/login" in r.headers["Location"]  # the session row ended for every host
    assert replay.request(a, "/api/v1/plans").status == 401


def test_the_login_throttle_counts_wrong_passwords_on_both_hosts(hosts):
    app, a, b, _, _ = hosts
    browser = Browser()
    on_a = PAIR_FREE_FAILURES // 2 + 1  # 3 on A, 2 on B: neither host alone reaches the limit of 5
    answers = [browser.login(a, "leader", "wrong-password").status for _ in range(on_a)]
    answers += [browser.login(b, "leader", "wrong-password").status for _ in range(PAIR_FREE_FAILURES - on_a)]
    assert answers == [200] * PAIR_FREE_FAILURES, answers
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(LoginAttempt))
        db.session.remove()
    assert rows == PAIR_FREE_FAILURES
    for base in (b, a):  # the next attempt is refused on both, even with the right password
        r = browser.login(base, "leader", "wrong-password")
        assert r.status == 429 and "登录失败次数过多" in r.text, (base, r.status)
        r = browser.login(base, "leader")
        assert r.status == 429, (base, r.status)
        assert int(r.headers["Retry-After"]) > 0


def test_a_write_through_a_is_seen_at_once_through_b(hosts):
    app, a, b, _, _ = hosts
    task_id = measure(app, "scjgj", LEAD, not_of="jtj")
    unit_id = unit_of_user(app, "scjgj")
    marker = f"主机A写入{secrets.token_hex(4)}"
    browser = Browser()
    assert browser.login(a, "scjgj").status == 302

    def seen_on_b():
        ledger = browser.request(b, "/ledger?q=" + urllib.parse.quote(marker))
        page = browser.request(b, f"/tasks/{task_id}")
        api = browser.request(b, f"/api/v1/tasks?unit={unit_id}")
        assert ledger.status == page.status == api.status == 200
        row = next(t for t in json.loads(api.body) if t["id"] == task_id)
        listed = f'href="/tasks/{task_id}"' in ledger.text  # the search box echoes the marker: look for the row
        return listed, marker in page.text, row["progress"], row["version"]

    for _ in range(4):  # warm B's read caches (both workers, most likely)
        before = seen_on_b()
    assert before[:3] == (False, False, 0)
    fields = task_form(browser, a, task_id)
    assert int(fields["version"]) == before[3]
    r = browser.request(a, f"/tasks/{task_id}/updates", form={
        **fields, "status": "in_progress", "progress": "37", "narrative": marker, "problems": "", "next_steps": ""})
    assert r.status == 302, r.text[:2000]
    for _ in range(4):  # every answer from B, whichever worker gives it
        assert seen_on_b() == (True, True, 37, before[3] + 1)


def unit_of_user(app, username: str) -> int:
    with app.app_context():
        unit_id = unit_of(username)
        db.session.remove()
    return unit_id
