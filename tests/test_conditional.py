"""Pages that are not re-rendered when nothing changed (web/conditional.py): ETag and 304, gzip."""
from __future__ import annotations

import gzip
import re
from datetime import date

import pytest

from tests.queries import counting
from tests.test_page_queries import add_measures
from tests.workflow import LEAD, measure, task_row, token_for

PAGES = {  # page: who may see it
    "/ledger": "dubanke",
    "/ledger?unit=区交通局&sort=deadline": "dubanke",
    "/": "dubanke",
    "/overdue": "dubanke",
    "/missing": "dubanke",
    "/my-tasks": "jtj",
    "/ledger/export.xlsx": "dubanke",
    "/overdue/export.xlsx": "dubanke",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def login(app, username: str):
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": "demo1234"})
    assert r.status_code == 302, username
    return client


def revalidate(client, url: str, etag: str, **headers):
    return client.get(url, headers={"If-None-Match": etag, **headers})


def api_report(app, username: str = "jtj", progress: int = 55) -> None:
    task_id = measure(app, username, LEAD)
    r = app.test_client().post(f"/api/v1/tasks/{task_id}/updates", headers=token_for(app, username), json={
        "status": "in_progress", "progress": progress, "narrative": "条件请求测试", "problems": "", "next_steps": "",
        "version": task_row(app, task_id)["version"]})
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("url", list(PAGES))
def test_200_with_etag_then_304_then_200_after_a_write(seeded, url):
    client = login(seeded, PAGES[url])
    first = client.get(url)
    assert first.status_code == 200 and first.data
    etag = first.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{40}"', etag), etag  # strong
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = revalidate(client, url, etag)
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "private, no-cache"
    assert revalidate(client, url, '"something-else"').status_code == 200

    api_report(seeded)  # a progress report through the API bumps the data revision
    after = revalidate(client, url, etag)
    assert after.status_code == 200 and after.data
    assert after.headers["ETag"] != etag
    assert revalidate(client, url, after.headers["ETag"]).status_code == 304


def test_the_page_after_a_write_shows_the_write(seeded):
    client = login(seeded, "dubanke")
    etag = client.get("/ledger").headers["ETag"]
    api_report(seeded, progress=67)
    page = revalidate(client, "/ledger", etag).get_data(as_text=True)
    assert "条件请求测试" in page


def test_another_user_another_url_another_day_another_etag(seeded):
    dubanke, leader, jtj = login(seeded, "dubanke"), login(seeded, "leader"), login(seeded, "jtj")
    tags = {name: c.get("/ledger").headers["ETag"] for name, c in
            (("dubanke", dubanke), ("leader", leader), ("jtj", jtj))}
    assert len(set(tags.values())) == 3, tags
    assert revalidate(leader, "/ledger", tags["dubanke"]).status_code == 200
    assert revalidate(jtj, "/ledger", tags["dubanke"]).status_code == 200
    # The same user in another session embeds another CSRF token: another ETag.
    assert login(seeded, "dubanke").get("/ledger").headers["ETag"] != tags["dubanke"]
    assert dubanke.get("/ledger?sort=deadline").headers["ETag"] != tags["dubanke"]
    seeded.config["FIXED_TODAY"] = date(2024, 7, 2)  # the next day: lights and deadlines move
    assert revalidate(dubanke, "/ledger", tags["dubanke"]).status_code == 200


def test_a_flash_is_never_lost_to_a_304(seeded):
    client = login(seeded, "dubanke")
    etag = client.get("/ledger").headers["ETag"]
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "已保存的提示")]
    shown = revalidate(client, "/ledger", etag)
    assert shown.status_code == 200 and "已保存的提示" in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers  # a page with a flash is never revalidated into a 304 later
    later = revalidate(client, "/ledger", etag)
    assert later.status_code == 304  # the flash was shown once; the page without it is the old one


def test_marking_a_todo_read_flashes_and_changes_the_dashboard(seeded):
    client = login(seeded, "jtj")
    first = client.get("/")
    etag = first.headers["ETag"]
    key = re.search(r'name="key" value="([^"]+)"', first.get_data(as_text=True))
    assert key, "the unit user has to-do items on the reference plan"
    r = client.post("/todo/read", data={"key": key.group(1)})
    assert r.status_code == 302
    page = revalidate(client, "/", etag)
    assert page.status_code == 200 and "已标记为已读" in page.get_data(as_text=True)
    assert revalidate(client, "/", etag).status_code == 200  # the to-do list changed (not plan data)


def test_forbidden_pages_are_never_304(seeded):
    client = login(seeded, "jtj")
    assert client.get("/overdue").status_code == 403
    assert revalidate(client, "/overdue", "*").status_code == 403


def test_a_304_runs_a_small_fixed_number_of_statements(seeded):
    counts = []
    for extra in (0, 40):
        add_measures(seeded, extra) if extra else None
        for url, username in (("/ledger", "dubanke"), ("/", "dubanke"), ("/my-tasks", "jtj")):
            client = login(seeded, username)
            etag = client.get(url).headers["ETag"]
            with counting(seeded) as statements:
                assert revalidate(client, url, etag).status_code == 304
            counts.append((url, len(statements)))
    assert counts[:3] == counts[3:], counts
    assert all(n <= 4 for _url, n in counts), counts  # the session, the revision, the to-do badge


def test_gzip_when_asked_and_the_body_round_trips(seeded):
    headers = token_for(seeded, "dubanke")
    client = seeded.test_client()
    plain = client.get("/api/v1/tasks", headers=headers)
    packed = client.get("/api/v1/tasks", headers={**headers, "Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in plain.headers and len(plain.data) >= 1024
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data)
    assert "Content-Encoding" not in client.get("/api/v1/tasks", headers={
        **headers, "Accept-Encoding": "gzip;q=0, identity"}).headers


def test_gzip_pages_keep_their_etag_apart(seeded):
    client = login(seeded, "dubanke")
    packed = client.get("/ledger", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "工作台账" in gzip.decompress(packed.data).decode("utf-8")
    etag = packed.headers["ETag"]
    assert etag.endswith('-gzip"')
    again = revalidate(client, "/ledger", etag, **{"Accept-Encoding": "gzip"})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
    assert "Content-Encoding" not in again.headers


def test_gzip_leaves_small_answers_files_and_xlsx_alone(seeded):
    client = login(seeded, "dubanke")
    small = client.get("/api/v1/tasks/999999", headers={"Accept-Encoding": "gzip"})
    assert small.status_code == 404 and "Content-Encoding" not in small.headers
    export = client.get("/ledger/export.xlsx", headers={"Accept-Encoding": "gzip"})
    assert export.mimetype == XLSX and "Content-Encoding" not in export.headers
    assert export.data[:2] == b"PK"
    css = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert "Content-Encoding" not in css.headers  # a file answer (nginx serves /static/ in production)
    css.close()
    missing = client.get("/no-such-page", headers={"Accept-Encoding": "gzip"})
    assert missing.status_code == 404 and missing.headers["Content-Encoding"] == "gzip"  # an HTML error page


def test_gzip_can_be_turned_off(seeded):
    seeded.config["GZIP_RESPONSES"] = False
    client = login(seeded, "dubanke")
    assert "Content-Encoding" not in client.get("/ledger", headers={"Accept-Encoding": "gzip"}).headers
