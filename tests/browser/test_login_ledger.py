"""Journeys: log in (wrong, then right password), read the ledger, filter by unit, log out;
the same at phone width (375 px)."""
from __future__ import annotations

from tracker.rules.lights import LIGHT_LABELS

from .conftest import login

# Elements wider than the viewport, outside the scrolling table container.
OVERFLOW_JS = """
() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-responsive')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 1 || r.left < -1) {
      bad.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
               ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
    }
  }
  return {width, scrollWidth: document.documentElement.scrollWidth, bad: bad.slice(0, 10)};
}
"""


def measure_rows(page):
    return page.locator("table.ledger-table tbody tr[class^='light-row-']")


def test_login_ledger_filter_logout(page, live_server, shot):
    page.goto("/ledger")
    assert "/login" in page.url  # login everywhere

    page.fill("#username", "dubanke")
    page.fill("#password", "wrong-password")
    page.click("form button[type=submit]")
    page.wait_for_selector(".alert-danger")
    assert "用户名或密码错误" in page.locator(".alert-danger").inner_text()
    assert "/login" in page.url
    shot(page, "1-wrong-password")

    page.fill("#password", "demo1234")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "/login" not in page.url
    assert "督办" in page.locator(".navbar").inner_text()

    page.click(".navbar >> text=工作台账")
    page.wait_for_url("**/ledger")
    rows = measure_rows(page)
    assert rows.count() == 92
    lights = page.locator("table.ledger-table td.col-light .light-badge")
    assert lights.count() == 92
    labels = set(lights.all_inner_texts())
    assert labels <= set(LIGHT_LABELS.values()) and len(labels) >= 2, labels
    assert page.locator("td.parent-cell").count() >= 20  # merged first/second-level cells
    shot(page, "2-ledger")

    with page.expect_navigation():  # static/js/ledger.js submits the filter when a select changes
        page.select_option("#f-unit", "区交通局")
    assert "unit=" in page.url
    filtered = measure_rows(page).count()
    assert 0 < filtered < 92
    units = page.locator("table.ledger-table tbody tr[class^='light-row-']").evaluate_all(
        "rows => rows.map(r => Array.from(r.querySelectorAll('td.col-units')).map(c => c.innerText).join('|'))")
    assert all("交通" in u for u in units), units
    shot(page, "3-filtered")

    with page.expect_navigation():
        page.click(".navbar >> text=退出")
    assert "/login" in page.url
    assert "您已退出登录" in page.locator(".alert").inner_text()
    page.goto("/ledger")
    assert "/login" in page.url


def test_phone_width_ledger_scrolls_inside_its_container(phone_page, live_server, shot):
    page = phone_page
    page.goto("/login")
    assert page.evaluate(OVERFLOW_JS)["bad"] == []
    shot(page, "1-login")
    login(page, "sfj")

    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible()  # the navbar is collapsed
    assert not page.locator("#mainnav .nav-link >> text=工作台账").is_visible()
    toggler.click()
    page.locator("#mainnav .nav-link >> text=工作台账").wait_for(state="visible")
    shot(page, "2-menu-open")
    with page.expect_navigation():
        page.click("#mainnav .nav-link >> text=工作台账")
    assert page.url.endswith("/ledger")

    assert measure_rows(page).count() > 0
    container = page.locator(".table-responsive")
    scroll = container.evaluate("el => ({scroll: el.scrollWidth, client: el.clientWidth})")
    assert scroll["client"] <= 375 < scroll["scroll"], scroll  # the ledger scrolls horizontally
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["width"] == 375
    assert layout["bad"] == [], layout
    assert layout["scrollWidth"] <= 375, layout  # the page itself does not scroll sideways
    shot(page, "3-ledger")

    container.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert container.evaluate("el => el.scrollLeft") > 0
    shot(page, "4-ledger-scrolled", full_page=False)
