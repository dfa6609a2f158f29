"""``backup`` / ``restore`` (SPEC 6.7): one archive with every table, the evidence and mail files and a
manifest; restored into an empty database and a fresh instance folder, everything matches.

Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (the restore then goes into a second,
empty database ``<name>_restore`` created and dropped by the test).
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tracker import create_app
from tracker.extensions import db
from tracker.models import Attachment
from tracker.operations.rows import count_rows, reflect_tables

from .conftest import PASSWORD, TEST_DATABASE_URL, base_config
from .test_attachments import PDF, PNG, upload
from .workflow import LEAD, measure, report, task_row, token_for


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        with db.engine.connect() as conn:
            return count_rows(conn, reflect_tables(conn))


def folder_digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*")) if p.is_file()}


@pytest.fixture
def target_url(tmp_path):
    """An empty database for the restore: a new SQLite file, or a new PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'restored' / 'tracker.db'}"
        return
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fresh_app(tmp_path: Path, monkeypatch, url: str):
    """An app on an empty database with a fresh instance folder (no tables are created)."""
    root = tmp_path / "restored"
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(root / "instance"))
    config = base_config(root)
    config.update(SQLALCHEMY_DATABASE_URI=url)
    return create_app(config)


def make_history(app, client, auth, runner) -> dict:
    """Reports with evidence files, a review, reminder mails (.eml files); returns what to check later."""
    first = measure(app, "jtj", LEAD, not_of="dktz")
    second = measure(app, "scjgj", LEAD)
    auth.login("jtj")
    assert upload(client, app, first, [("执法案卷评查报告.pdf", PDF), ("现场照片.png", PNG)]).status_code == 302
    auth.logout()
    auth.login("scjgj")
    assert upload(client, app, second, [("整改台账.pdf", PDF + b"2")], status="pending_review",
                  progress="100").status_code == 302
    auth.logout()
    headers = token_for(app, "dubanke")
    r = client.post(f"/api/v1/tasks/{second}/review", json={"decision": "return", "comment": "请补充照片"},
                    headers=headers)
    assert r.status_code == 201, r.get_json()
    result = runner.invoke(args=["send-reminders", "--today", "2024-07-20"])
    assert result.exit_code == 0, result.output
    return {"first": first, "second": second, "headers": headers}


def test_backup_and_restore_carry_every_row_file_and_download(seeded, client, auth, runner, tmp_path,
                                                              monkeypatch, target_url):
    made = make_history(seeded, client, auth, runner)
    source_counts = table_counts(seeded)
    assert source_counts["attachments"] == 3 and source_counts["reviews"] == 1
    assert source_counts["progress_updates"] >= 2 and source_counts["notifications"] > 0
    uploads = folder_digests(Path(seeded.config["UPLOAD_FOLDER"]))
    mails = folder_digests(Path(seeded.config["MAIL_FILE_FOLDER"]))
    assert len(uploads) == 3 and mails
    with seeded.app_context():
        attachments = {a.id: (a.sha256, a.original_name) for a in db.session.scalars(select(Attachment))}
        db.session.remove()

    archive = tmp_path / "backups" / "tracker.tar.gz"
    archive.parent.mkdir()
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"文件 {len(uploads) + len(mails)} 个" in result.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["tables"] == source_counts
    assert {m.split("/", 2)[2] for m in manifest["members"] if m.startswith("files/uploads/")} == set(uploads)
    assert all(manifest["members"][f"files/uploads/{n}"]["sha256"] == d for n, d in uploads.items())

    target = fresh_app(tmp_path, monkeypatch, target_url)
    target_runner = target.test_cli_runner()
    result = target_runner.invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "与清单一致" in result.output

    restored = table_counts(target)
    assert restored == source_counts
    assert folder_digests(Path(target.config["UPLOAD_FOLDER"])) == uploads
    assert folder_digests(Path(target.config["MAIL_FILE_FOLDER"])) == mails

    # Every download matches, for a user whose password hash came through the backup.
    tclient = target.test_client()
    assert tclient.post("/login", data={"username": "dubanke", "password": PASSWORD}).status_code == 302
    for att_id, (sha, name) in attachments.items():
        r = tclient.get(f"/attachments/{att_id}")
        assert r.status_code == 200, name
        assert hashlib.sha256(r.data).hexdigest() == sha
    # API tokens (stored hashed) work; new rows get new ids (sequences moved past the restored ids).
    assert tclient.get("/api/v1/plans", headers=made["headers"]).status_code == 200
    tclient.post("/logout")
    assert tclient.post("/login", data={"username": "jtj", "password": PASSWORD}).status_code == 302
    version = task_row(target, made["first"])["version"]
    assert report(tclient, made["first"], version).status_code == 302
    assert table_counts(target)["progress_updates"] == source_counts["progress_updates"] + 1

    # A second restore into the now non-empty target is refused and changes nothing ...
    before = table_counts(target)
    result = target_runner.invoke(args=["restore", str(archive)])
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[-1].startswith("错误：目标不是空的")
    assert table_counts(target) == before
    # ... unless told to replace it.
    result = target_runner.invoke(args=["restore", "--replace", str(archive)])
    assert result.exit_code == 0, result.output
    assert table_counts(target) == source_counts
    assert folder_digests(Path(target.config["UPLOAD_FOLDER"])) == uploads
    with target.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_damaged_archive_is_refused_before_anything_is_written(seeded, client, auth, runner, tmp_path,
                                                                  monkeypatch, target_url):
    task_id = measure(seeded, "jtj", LEAD)
    auth.login("jtj")
    assert upload(client, seeded, task_id, [("a.pdf", PDF)]).status_code == 302
    archive = tmp_path / "good.tar.gz"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0

    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as out:
        for member in src:
            data = src.extractfile(member).read()
            if member.name.startswith("files/uploads/"):
                data = data[:-1] + b"X"
            out.addfile(member, io.BytesIO(data))

    target = fresh_app(tmp_path, monkeypatch, target_url)
    result = target.test_cli_runner().invoke(args=["restore", str(damaged)])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：校验失败") and "sha256" in lines[0]
    with target.app_context():
        with db.engine.connect() as conn:
            assert reflect_tables(conn) == []
        db.engine.dispose()
    assert not Path(target.config["UPLOAD_FOLDER"]).exists()

    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "nope.tar.gz")])
    assert result.exit_code != 0 and "备份文件不存在" in result.output


def test_backup_refuses_to_overwrite_and_names_a_file_in_a_folder(seeded, runner, tmp_path):
    dest = tmp_path / "existing.tar.gz"
    dest.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code != 0 and "目标文件已存在" in result.output
    assert dest.read_bytes() == b"keep me"

    folder = tmp_path / "backups"
    folder.mkdir()
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    (made,) = folder.glob("tracker-backup-*.tar.gz")
    assert list(folder.glob("*.part")) == []
    with tarfile.open(made) as tar:
        assert json.load(tar.extractfile("manifest.json"))["tables"]["tasks"] == 175

    result = runner.invoke(args=["backup", str(tmp_path / "missing" / "x.tar.gz")])
    assert result.exit_code != 0 and "目标目录不存在" in result.output


def test_evidence_in_the_database_store_is_backed_up_and_restored(seeded, client, auth, runner, tmp_path,
                                                                   monkeypatch, target_url):
    """TRACKER_EVIDENCE_STORE=database: the bytes are rows of ``evidence_blobs``, carried by the same snapshot."""
    seeded.config["EVIDENCE_STORE"] = "database"
    make_history(seeded, client, auth, runner)
    source_counts = table_counts(seeded)
    assert source_counts["evidence_blobs"] == source_counts["attachments"] == 3
    assert folder_digests(Path(seeded.config["UPLOAD_FOLDER"])) == {}
    with seeded.app_context():
        attachments = {a.id: a.sha256 for a in db.session.scalars(select(Attachment))}
        db.session.remove()

    archive = tmp_path / "db-store.tar.gz"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "数据库中的佐证材料 3 个" in result.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        blobs = [json.loads(line) for line in tar.extractfile("database/evidence_blobs.jsonl")]
    assert manifest["tables"]["evidence_blobs"] == 3
    assert not [m for m in manifest["members"] if m.startswith("files/uploads/")]
    assert {b["sha256"] for b in blobs} == set(attachments.values())

    target = fresh_app(tmp_path, monkeypatch, target_url)
    target.config["EVIDENCE_STORE"] = "database"
    result = target.test_cli_runner().invoke(args=["restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert table_counts(target) == source_counts
    tclient = target.test_client()
    assert tclient.post("/login", data={"username": "dubanke", "password": PASSWORD}).status_code == 302
    for att_id, sha in attachments.items():
        r = tclient.get(f"/attachments/{att_id}")
        assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == sha
    # Restored on a host still set to the files store: served from the database all the same.
    target.config["EVIDENCE_STORE"] = "files"
    for att_id, sha in attachments.items():
        assert hashlib.sha256(tclient.get(f"/attachments/{att_id}").data).hexdigest() == sha
    with target.app_context():
        db.session.remove()
        db.engine.dispose()
