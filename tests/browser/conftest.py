"""Browser journeys: a live server and headless Chromium driven by Playwright.

* ``live_server``: the app on a random loopback port, served by a real werkzeug
  server in a thread, on its own seeded SQLite file (copied from a template
  seeded once per session), with "today" frozen at 2024-07-01 like the rest of
  the suite. ``live_server.url("/ledger")``, ``live_server.app`` for direct
  database checks.
* ``browser``: Debian's /usr/bin/chromium through Playwright's
  ``executable_path`` (no ``playwright install``). Absent Chromium skips the
  journeys with a reason, unless TRACKER_REQUIRE_BROWSER=1 (.ci/run), which
  fails them instead. The PostgreSQL pass skips them (they run on SQLite).
* ``page`` (desktop 1366x900) and ``phone_page`` (375x812, touch);
  ``new_page(viewport)`` for a second user in the same test.
* ``login(page, username)`` and ``shot(page, step)`` (tests/screenshots/<test>-<step>.png).

Every test here is marked ``browser`` (``pytest -m browser`` / ``-m "not browser"``).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from tracker import create_app
from tracker.extensions import db

from ..conftest import PASSWORD, TEST_DATABASE_URL, TODAY, base_config

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
# Waits only bound a hang: on a busy shared 2-core machine (CI, the suite run under load) one
# server round trip can take several seconds, so a tight bound turns load into failures. Page speed
# is measured by bench/ (README, 性能基准), not by these waits. TRACKER_BROWSER_TIMEOUT_MS overrides it.
TIMEOUT_MS = int(os.environ.get("TRACKER_BROWSER_TIMEOUT_MS") or 30000)


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: journeys in headless Chromium (tests/browser)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _browser_pass_only():
    if TEST_DATABASE_URL:
        pytest.skip("browser journeys run in the SQLite pass")


def _unavailable(reason: str):
    if os.environ.get("TRACKER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TRACKER_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if TEST_DATABASE_URL:
        pytest.skip("browser journeys run in the SQLite pass")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (requirements-dev.txt)")
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken Chromium install
        pw.stop()
        _unavailable(f"Chromium did not start: {str(exc).splitlines()[0]}")
    yield browser
    browser.close()
    pw.stop()


# --- the live server ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """A seeded SQLite file made once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("browser-template")
    path = folder / "template.db"
    app = create_app({**base_config(folder), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    from tracker.operations.seed import seed

    with app.app_context():
        db.create_all()
        seed()
        db.session.remove()
        db.engine.dispose()
    return path


def freeze_today(monkeypatch, today: date) -> None:
    """Make every request's "today" ``today`` (the app reads the clock only through these)."""
    import tracker.web.request
    from tracker import clock

    original = clock.local_today
    monkeypatch.setattr(tracker.web.request, "app_today", lambda: today)
    for name, module in list(sys.modules.items()):
        if name.startswith("tracker") and getattr(module, "local_today", None) is original:
            monkeypatch.setattr(module, "local_today", lambda tz=None: today)


@dataclass
class LiveServer:
    app: object
    base: str
    db_path: Path

    def url(self, path: str = "/") -> str:
        return self.base + path


@pytest.fixture
def live_server(seeded_template, tmp_path, monkeypatch):
    from werkzeug.serving import make_server

    db_path = tmp_path / "live.db"
    shutil.copyfile(seeded_template, db_path)
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path / "instance"))
    config = base_config(tmp_path)
    config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}", WTF_CSRF_ENABLED=True)
    app = create_app(config)
    freeze_today(monkeypatch, TODAY)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, base=f"http://127.0.0.1:{server.server_port}", db_path=db_path)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- pages ----------------------------------------------------------------------------------------

@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make(viewport: dict | None = None, **options):
        viewport = viewport or DESKTOP
        if viewport["width"] <= 480:
            options.setdefault("is_mobile", True)
            options.setdefault("has_touch", True)
            options.setdefault("device_scale_factor", 2)
        context = browser.new_context(viewport=viewport, base_url=live_server.base, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", accept_downloads=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.errors = []  # uncaught JavaScript errors, checked after the test
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        return page

    yield make
    errors = [e for c in contexts for p in c.pages for e in getattr(p, "errors", [])]
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
def page(new_page):
    return new_page(DESKTOP)


@pytest.fixture
def phone_page(new_page):
    return new_page(PHONE)


@pytest.fixture
def shot(request):
    """``shot(page, "step")`` saves tests/screenshots/<test>-<step>.png (full page)."""
    test = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")

    def take(page, step: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", step)
        path = SCREENSHOTS / f"{test}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def login(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the form; ends on the page after the redirect."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/login" not in page.url, f"login as {username} failed"


@pytest.fixture
def login_as():
    return login
