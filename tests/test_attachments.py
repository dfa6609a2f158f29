"""Evidence files: content checks, storage outside static/, downloads only for those who may see the task."""
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workflow import LEAD, counts, measure, task_row
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.models import Attachment
from tracker.reporting.attachments import check_file, clean_filename

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


def zipped(*names: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return buf.getvalue()


GOOD = {
    "报告.pdf": PDF, "photo.JPG": JPEG, "scan.jpeg": JPEG, "p.png": PNG, "old.doc": OLE2, "old.xls": OLE2,
    "new.docx": zipped("[Content_Types].xml", "word/document.xml"),
    "new.xlsx": zipped("[Content_Types].xml", "xl/workbook.xml"),
    "bundle.zip": zipped("a.txt"),
}
BAD = {
    "fake.pdf": b"<html>not a pdf</html>",
    "fake.png": JPEG,
    "fake.jpg": b"GIF89a....",
    "fake.doc": PDF,
    "fake.docx": zipped("xl/workbook.xml"),
    "fake.xlsx": zipped("word/document.xml"),
    "broken.zip": b"PK\x03\x04garbage",
    "script.exe": b"MZ\x90\x00",
    "page.html": b"<html></html>",
    "noext": PDF,
    "empty.pdf": b"",
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_allowed_types_pass_by_content_and_name(app, name):
    with app.app_context():
        checked = check_file(name, io.BytesIO(GOOD[name]))
    assert checked.sha256 == hashlib.sha256(GOOD[name]).hexdigest() and checked.size == len(GOOD[name])


@pytest.mark.parametrize("name", sorted(BAD))
def test_wrong_content_or_type_is_refused(app, name):
    with app.app_context(), pytest.raises(Invalid) as exc:
        check_file(name, io.BytesIO(BAD[name]))
    assert "files" in exc.value.errors


def test_size_limit_from_config(tmp_path, monkeypatch):
    from tests.conftest import make_app

    app = make_app(tmp_path, monkeypatch, MAX_UPLOAD_BYTES=1024)
    with app.app_context():
        check_file("a.pdf", io.BytesIO(PDF + b"0" * (1024 - len(PDF))))
        with pytest.raises(Invalid):
            check_file("a.pdf", io.BytesIO(PDF + b"0" * 1024))


def test_default_limit_is_20_mb(app):
    assert app.config["MAX_UPLOAD_BYTES"] == 20 * 1024 * 1024
    with app.app_context(), pytest.raises(Invalid) as exc:
        check_file("big.pdf", io.BytesIO(PDF + b"0" * (20 * 1024 * 1024)))
    assert "20 MB" in exc.value.message


def test_clean_filename():
    assert clean_filename("../../etc/执法报告.pdf") == "执法报告.pdf"
    assert clean_filename("C:\\Users\\x\\证明 材料.docx") == "证明 材料.docx"
    assert clean_filename('a"b<c>\r\n.pdf') == "abc.pdf"


def upload(client, app, task_id, files, **fields):
    data = {"status": "in_progress", "progress": "50", "narrative": "见附件",
            "version": str(task_row(app, task_id)["version"]),
            "files": [(io.BytesIO(content), name) for name, content in files]}
    data.update(fields)
    return client.post(f"/tasks/{task_id}/updates", data=data, content_type="multipart/form-data")


def test_upload_stores_outside_static_with_random_names(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD, not_of="dktz")
    auth.login("jtj")
    r = upload(client, seeded, task_id, [("执法案卷评查报告.pdf", PDF), ("现场照片.png", PNG)])
    assert r.status_code == 302
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    static = Path(seeded.static_folder).resolve()
    with seeded.app_context():
        rows = db.session.execute(select(Attachment).order_by(Attachment.id)).scalars().all()
        assert [a.original_name for a in rows] == ["执法案卷评查报告.pdf", "现场照片.png"]
        for a, content in zip(rows, (PDF, PNG)):
            stored = folder / a.storage_name
            assert stored.read_bytes() == content and static not in stored.resolve().parents
            assert "执法" not in a.storage_name and len(a.storage_name) >= 32
            assert a.sha256 == hashlib.sha256(content).hexdigest() and a.size == len(content)
            assert a.update_id is not None and a.content_type in ("application/pdf", "image/png")
        ids = [a.id for a in rows]
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "执法案卷评查报告.pdf" in page and f"/attachments/{ids[0]}" in page
    # Own unit, supervisor, viewer, admin may download; another unit may not.
    r = client.get(f"/attachments/{ids[0]}")
    assert r.status_code == 200 and r.data == PDF
    assert "attachment" in r.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    auth.logout()
    for username in ("dubanke", "leader", "admin"):
        auth.login(username)
        assert client.get(f"/attachments/{ids[1]}").status_code == 200, username
        auth.logout()
    auth.login("dktz")
    assert client.get(f"/attachments/{ids[0]}").status_code == 403
    assert client.get("/attachments/999999").status_code == 404


def test_fake_pdf_is_refused_and_nothing_is_written(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    before, n = task_row(seeded, task_id), counts(seeded)
    r = upload(client, seeded, task_id, [("good.pdf", PDF), ("假的.pdf", b"MZ\x90\x00 this is an exe")])
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "假的.pdf" in html and "不符" in html
    assert task_row(seeded, task_id) == before and counts(seeded) == n
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    assert not folder.exists() or not any(folder.iterdir())


def test_missing_stored_file_is_404_not_500(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    assert upload(client, seeded, task_id, [("a.pdf", PDF)]).status_code == 302
    with seeded.app_context():
        att = db.session.execute(select(Attachment)).scalar_one()
        (Path(seeded.config["UPLOAD_FOLDER"]) / att.storage_name).unlink()
        att_id = att.id
    r = client.get(f"/attachments/{att_id}")
    assert r.status_code == 404 and "缺失" in r.get_data(as_text=True)  # more: tests/test_operations.py


def test_too_large_request_is_a_clear_413(tmp_path, monkeypatch):
    from tests.conftest import make_app
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, MAX_CONTENT_LENGTH=64 * 1024)
    with app.app_context():
        seed()
    client = app.test_client()
    client.post("/login", data={"username": "jtj", "password": "demo1234"})
    task_id = measure(app, "jtj", LEAD)
    r = upload(client, app, task_id, [("big.pdf", PDF + b"0" * 100_000)])
    assert r.status_code == 413 and "每个佐证材料不超过 20 MB" in r.get_data(as_text=True)


def test_good_file_with_bad_fields_is_not_kept(seeded, client, auth):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    n = counts(seeded)
    r = upload(client, seeded, task_id, [("a.pdf", PDF)], progress="150")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "进度应在 0–100 之间" in html and "请修正后重新选择文件" in html
    assert counts(seeded) == n
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    assert not folder.exists() or not any(folder.iterdir())
