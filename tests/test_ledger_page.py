"""Ledger page: roll-ups on parents, measure cells, filters kept in the URL, escaping."""
import re

from sqlalchemy import select

from tracker.extensions import db
from tracker.models import Task

from .conftest import TODAY


def test_parents_show_rollup_and_worst_light(seeded, client, auth):
    auth.login("admin")
    html = client.get(f"/ledger?today={TODAY}").get_data(as_text=True)
    cells = re.findall(r'<td rowspan="\d+" class="parent-cell" data-light="(\w+)">(.*?)</td>', html, re.S)
    assert len(cells) == 20 + 63
    for light, body in cells:
        assert 'role="progressbar"' in body and "%" in body
        # One badge per light with its count, no separate "worst light" badge repeating one of them.
        labels = re.findall(r'<span class="badge[^"]*"[^>]*>([^<\d]+?)\s*\d+</span>', body)
        assert labels and len(labels) == len(set(labels)), body
        assert "最差预警" not in body
    assert "共 92 项具体举措" in html


def test_filters_live_in_the_url(seeded, client, auth):
    auth.login("admin")
    with seeded.app_context():
        root = db.session.execute(select(Task).where(Task.level == 1).order_by(Task.position)).scalars().first()
        root_id = root.id
    html = client.get(f"/ledger?today={TODAY}&task={root_id}&unit=区司法局&light=green&q=学习").get_data(as_text=True)
    assert f'<option value="{root_id}" selected' in html
    assert '<option value="区司法局" selected' in html
    assert '<option value="green" selected' in html
    assert 'value="学习"' in html
    href = re.search(r'href="(/ledger/export\.xlsx\?[^"]+)"', html).group(1).replace("&amp;", "&")
    for part in (f"task={root_id}", "light=green", "today=2024-07-01"):
        assert part in href
    # Free-text unit (full name) still selects, unknown unit is a field error, not a 500.
    html = client.get(f"/ledger?today={TODAY}&unit=天津市宝坻区司法局").get_data(as_text=True)
    assert '<option value="区司法局" selected' in html
    assert client.get("/ledger?unit=火星局").status_code == 422


def test_latest_progress_shortened_with_full_text_on_hover(seeded, client, auth):
    long_text = "本月完成" + "执法培训" * 30 + "<b>粗体</b>"
    with seeded.app_context():
        task = db.session.execute(select(Task).where(Task.is_leaf).order_by(Task.id)).scalars().first()
        task.latest_progress = long_text
        db.session.commit()
    auth.login("admin")
    html = client.get(f"/ledger?today={TODAY}").get_data(as_text=True)
    assert 'title="本月完成执法培训' in html
    assert "<b>粗体</b>" not in html and "&lt;b&gt;粗体&lt;/b&gt;" in html
    shown = re.search(r'class="latest-text" title="[^"]*">([^<]*)</span>', html).group(1)
    assert len(shown) <= 41 and shown.endswith("…")


def test_print_stylesheet_is_a3_landscape(client):
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert "size: A3 landscape" in css
