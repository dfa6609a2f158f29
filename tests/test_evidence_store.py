"""Evidence stores (SPEC 6.5): ``files`` (the default) and ``database`` (bytes in ``evidence_blobs``, in the
report's transaction), the download from either, and ``move-evidence`` between them.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from tracker.config import ConfigError
from tracker.extensions import db
from tracker.models import Attachment, AuditLog, EvidenceBlob, ProgressUpdate

from .conftest import make_app, seeded_app
from .test_attachments import JPEG, PDF, PNG, upload
from .workflow import LEAD, measure, task_row


@pytest.fixture
def db_store(tmp_path, monkeypatch):
    """The seeded app with TRACKER_EVIDENCE_STORE=database."""
    with seeded_app(tmp_path, monkeypatch, EVIDENCE_STORE="database") as app:
        yield app


def files_in(app) -> list[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def stored(app) -> dict:
    """attachment id -> (sha256, storage name, whether its bytes are in the database)."""
    with app.app_context():
        blobs = set(db.session.scalars(select(EvidenceBlob.attachment_id)))
        rows = {a.id: (a.sha256, a.storage_name, a.id in blobs) for a in db.session.scalars(select(Attachment))}
        db.session.remove()
    return rows


def login(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": "demo1234"}).status_code == 302


def test_database_store_keeps_the_bytes_in_the_database_and_serves_them(db_store):
    client = db_store.test_client()
    task_id = measure(db_store, "jtj", LEAD, not_of="dktz")
    login(client, "jtj")
    assert upload(client, db_store, task_id, [("执法案卷评查报告.pdf", PDF), ("现场照片.png", PNG)]).status_code == 302
    assert files_in(db_store) == []  # nothing in the instance folder
    rows = stored(db_store)
    assert len(rows) == 2 and all(in_db for _, _, in_db in rows.values())
    with db_store.app_context():
        for blob in db_store.extensions["sqlalchemy"].session.scalars(select(EvidenceBlob)):
            assert blob.size == len(blob.data) and hashlib.sha256(blob.data).hexdigest() == blob.sha256
        db.session.remove()
    by_sha = {hashlib.sha256(PDF).hexdigest(): PDF, hashlib.sha256(PNG).hexdigest(): PNG}
    for att_id, (sha, _, _) in rows.items():
        r = client.get(f"/attachments/{att_id}")
        assert r.status_code == 200 and r.data == by_sha[sha]
        assert "attachment" in r.headers["Content-Disposition"] and r.headers["ETag"].strip('"') == sha
    png_id = next(i for i, (sha, _, _) in rows.items() if sha == hashlib.sha256(PNG).hexdigest())
    r = client.get(f"/attachments/{png_id}?inline=1")
    assert r.status_code == 200 and r.data == PNG and r.headers["Content-Disposition"].startswith("inline")
    assert r.headers["Content-Security-Policy"].startswith("sandbox")
    client.post("/logout")
    login(client, "dktz")  # another unit: still refused, whatever the store
    assert client.get(f"/attachments/{png_id}").status_code == 403


def test_refused_report_writes_no_blob(db_store):
    client = db_store.test_client()
    task_id = measure(db_store, "jtj", LEAD)
    login(client, "jtj")
    r = upload(client, db_store, task_id, [("good.pdf", PDF), ("假的.pdf", b"MZ\x90\x00")])
    assert r.status_code == 422
    r = upload(client, db_store, task_id, [("good.pdf", PDF)], progress="150")
    assert r.status_code == 422
    assert stored(db_store) == {} and files_in(db_store) == []


@pytest.mark.parametrize("store", ["files", "database"])
def test_a_failed_commit_leaves_neither_report_nor_file(tmp_path, monkeypatch, store):
    """The transaction fails after the files and bytes were written (a session event raises when the
    attachment rows are flushed): no report, no attachment row, no bytes in the table or the folder."""
    from tracker.operations.seed import seed

    app = make_app(tmp_path, monkeypatch, EVIDENCE_STORE=store)
    with app.app_context():
        seed()
    client = app.test_client()
    task_id = measure(app, "jtj", LEAD)
    login(client, "jtj")
    before = task_row(app, task_id)
    flushed = []

    def fail_after_insert(session, _context):
        if any(isinstance(o, Attachment) for o in session.new):
            flushed.append((sum(isinstance(o, EvidenceBlob) for o in session.new), len(files_in(app))))
            raise RuntimeError("the database went away")

    event.listen(Session, "after_flush", fail_after_insert)
    try:
        r = upload(client, app, task_id, [("a.pdf", PDF), ("b.jpg", JPEG)])
    finally:
        event.remove(Session, "after_flush", fail_after_insert)
    assert r.status_code == 500  # the error page (logged), not a half-saved report
    # Both files were written (files store: to the folder; database store: inserted), then taken back.
    assert flushed == [(0, 2) if store == "files" else (2, 0)]
    assert task_row(app, task_id) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProgressUpdate)) == 0
        assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert db.session.scalar(select(func.count()).select_from(EvidenceBlob)) == 0
        db.session.remove()
        db.engine.dispose()
    assert files_in(app) == []


def test_unknown_store_setting_stops_the_start_with_one_line(tmp_path, monkeypatch):
    with pytest.raises(ConfigError) as exc:
        make_app(tmp_path, monkeypatch, EVIDENCE_STORE="s3")
    assert str(exc.value) == "TRACKER_EVIDENCE_STORE 应为 files 或 database，而不是“s3”"


def test_the_default_is_the_files_store(app):
    assert app.config["EVIDENCE_STORE"] == "files"


def test_blobs_go_with_their_attachment(db_store):
    client = db_store.test_client()
    task_id = measure(db_store, "jtj", LEAD)
    login(client, "jtj")
    assert upload(client, db_store, task_id, [("a.pdf", PDF)]).status_code == 302
    with db_store.app_context():
        assert db.session.scalar(select(func.count()).select_from(EvidenceBlob)) == 1
        db.session.execute(text("DELETE FROM attachments"))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(EvidenceBlob)) == 0  # ON DELETE CASCADE
        db.session.remove()


# --- move-evidence ---------------------------------------------------------------------------------------

def two_reports(app) -> dict[int, bytes]:
    """Three evidence files on two measures; attachment id -> bytes."""
    client = app.test_client()
    first, second = measure(app, "jtj", LEAD, not_of="dktz"), measure(app, "scjgj", LEAD)
    login(client, "jtj")
    assert upload(client, app, first, [("报告.pdf", PDF), ("照片.png", PNG)]).status_code == 302
    client.post("/logout")
    login(client, "scjgj")
    assert upload(client, app, second, [("现场.jpg", JPEG + b"2")]).status_code == 302
    by_sha = {hashlib.sha256(b).hexdigest(): b for b in (PDF, PNG, JPEG + b"2")}
    return {att_id: by_sha[sha] for att_id, (sha, _, _) in stored(app).items()}


def downloads(app, wanted: dict[int, bytes]) -> None:
    client = app.test_client()
    login(client, "dubanke")
    for att_id, content in wanted.items():
        r = client.get(f"/attachments/{att_id}")
        assert r.status_code == 200 and r.data == content, att_id


def audit_details(app) -> list[str]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditLog.detail).where(AuditLog.action == "move_evidence")
                                       .order_by(AuditLog.id)))
        db.session.remove()
    return rows


def test_move_to_the_database_and_back(seeded, runner):
    files = two_reports(seeded)
    names = files_in(seeded)
    assert len(names) == 3
    seeded.config["EVIDENCE_STORE"] = "database"  # the hosts were switched, then the files are moved

    result = runner.invoke(args=["move-evidence", "--to", "database", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("检查通过（未移动）：将有 3 个文件")
    assert files_in(seeded) == names and not any(in_db for *_, in_db in stored(seeded).values())
    downloads(seeded, files)  # database store configured, files not moved yet: still served

    result = runner.invoke(args=["move-evidence", "--to", "database"])
    assert result.exit_code == 0, result.output
    assert "已移入数据库：3 个文件" in result.output
    assert files_in(seeded) == [] and all(in_db for *_, in_db in stored(seeded).values())
    downloads(seeded, files)
    assert len(audit_details(seeded)) == 1 and "佐证材料移至数据库：3 个" in audit_details(seeded)[0]

    result = runner.invoke(args=["move-evidence", "--to", "database"])  # idempotent
    assert result.exit_code == 0 and result.output.strip() == "没有需要移动的文件：3 个已在数据库中。"
    assert len(audit_details(seeded)) == 1

    seeded.config["EVIDENCE_STORE"] = "files"
    downloads(seeded, files)  # switched back before moving: served from the database meanwhile
    result = runner.invoke(args=["move-evidence", "--to", "files"])
    assert result.exit_code == 0, result.output
    assert "已移入文件目录：3 个文件" in result.output
    assert files_in(seeded) == names and not any(in_db for *_, in_db in stored(seeded).values())
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    assert {hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names} == {
        hashlib.sha256(b).hexdigest() for b in files.values()}
    assert all((folder / n).stat().st_mode & 0o077 == 0 for n in names)  # 0600, the service user's only
    downloads(seeded, files)
    assert len(audit_details(seeded)) == 2


def test_move_warns_when_the_setting_still_points_elsewhere(seeded, runner):
    two_reports(seeded)
    result = runner.invoke(args=["move-evidence", "--to", "database", "--dry-run"])
    assert result.exit_code == 0
    assert "注意：当前设置 TRACKER_EVIDENCE_STORE=files" in result.output


def test_a_damaged_or_missing_file_moves_nothing(seeded, runner):
    files = two_reports(seeded)
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    rows = stored(seeded)
    damaged_id, missing_id = sorted(rows)[:2]
    seeded.config["EVIDENCE_STORE"] = "database"
    damaged = folder / rows[damaged_id][1]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"X")  # same size, other content
    for args in (["--dry-run"], []):
        result = runner.invoke(args=["move-evidence", "--to", "database", *args])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("错误：1 个佐证材料无法移动，未移动任何文件")
        assert f"附件 {damaged_id}" in lines[0] and "sha256" in lines[0]
    assert not any(in_db for *_, in_db in stored(seeded).values()) and len(files_in(seeded)) == 3

    (folder / rows[missing_id][1]).rename(folder / "elsewhere.bin")
    damaged.write_bytes(damaged.read_bytes() + b"more")  # now the size is wrong too
    result = runner.invoke(args=["move-evidence", "--to", "database"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1] == "错误：2 个佐证材料无法移动，未移动任何文件：见上（可从备份中恢复这些文件后再运行）"
    assert any(f"附件 {missing_id}" in line and "缺失" in line for line in lines[:-1])
    assert any(f"附件 {damaged_id}" in line and "字节" in line for line in lines[:-1])
    assert not any(in_db for *_, in_db in stored(seeded).values())
    assert audit_details(seeded) == []

    # Put the right files back (as from a backup): the move goes through.
    (folder / "elsewhere.bin").rename(folder / rows[missing_id][1])
    damaged.write_bytes(files[damaged_id])
    result = runner.invoke(args=["move-evidence", "--to", "database"])
    assert result.exit_code == 0, result.output
    assert all(in_db for *_, in_db in stored(seeded).values()) and files_in(seeded) == []


def test_an_interrupted_move_is_completed_by_the_next_run(seeded, runner):
    files = two_reports(seeded)
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    rows = stored(seeded)
    first = min(rows)
    # As if a run was killed after committing the first file's bytes but before removing the file.
    with seeded.app_context():
        db.session.add(EvidenceBlob(attachment_id=first, size=len(files[first]), sha256=rows[first][0],
                                    data=files[first]))
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["move-evidence", "--to", "database"])
    assert result.exit_code == 0, result.output
    assert "已移入数据库：2 个文件" in result.output and "清理旧副本 1 个" in result.output
    assert files_in(seeded) == [] and len(stored(seeded)) == 3
    downloads(seeded, files)

    # The other way: a file already written back, its bytes still in the database.
    name = rows[first][1]
    (folder.mkdir(exist_ok=True), (folder / name).write_bytes(files[first]))
    result = runner.invoke(args=["move-evidence", "--to", "files"])
    assert result.exit_code == 0, result.output
    assert "已移入文件目录：2 个文件" in result.output and "清理旧副本 1 个" in result.output
    assert len(files_in(seeded)) == 3 and not any(in_db for *_, in_db in stored(seeded).values())


def test_move_to_files_refuses_to_overwrite_a_different_file(seeded, runner):
    files = two_reports(seeded)
    assert runner.invoke(args=["move-evidence", "--to", "database"]).exit_code == 0
    rows = stored(seeded)
    first = min(rows)
    folder = Path(seeded.config["UPLOAD_FOLDER"])
    (folder / rows[first][1]).write_bytes(b"someone else's file")
    result = runner.invoke(args=["move-evidence", "--to", "files"])
    assert result.exit_code == 1
    assert "未覆盖" in result.output and f"附件 {first}" in result.output
    assert (folder / rows[first][1]).read_bytes() == b"someone else's file"
    assert all(in_db for *_, in_db in stored(seeded).values())
    downloads(seeded, {i: b for i, b in files.items() if i != first})


@pytest.mark.parametrize("args, message", [
    ([], "错误：--to 应为 files 或 database"),
    (["--to", "s3"], "错误：--to 应为 files 或 database，而不是“s3”"),
])
def test_move_needs_a_known_target(seeded, runner, args, message):
    result = runner.invoke(args=["move-evidence", *args])
    assert result.exit_code == 1 and result.output.strip() == message
