"""``backup DEST``: one archive (.tar.gz) with every table, the evidence and mail files, and a manifest.

* The database part is every table as JSON lines (``rows.py``), read from ONE consistent snapshot:
  SQLite is first copied with its online backup API (consistent while the app writes), PostgreSQL
  is read in one REPEATABLE READ, READ ONLY transaction (the snapshot ``pg_dump`` uses too).
* The files (``UPLOAD_FOLDER``, ``MAIL_FILE_FOLDER``) are added after the snapshot: every file a
  snapshot row refers to was written before that row was committed, so it is there.
* ``manifest.json`` (last member) lists row counts per table and sha256 + size per member.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

from ..files import open_private
from .rows import alembic_revision, dump_table, reflect_tables

FORMAT = "tracker-backup"
VERSION = 1
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A one-line reason the backup was not made."""


@dataclass
class BackupResult:
    path: Path
    size: int
    tables: dict[str, int]
    files: int


def file_folders(config) -> dict[str, Path]:
    """The folders whose files a backup carries, by their name in the archive."""
    return {"uploads": Path(config["UPLOAD_FOLDER"]), "outbox-mail": Path(config["MAIL_FILE_FOLDER"])}


@contextmanager
def snapshot(engine: Engine, workdir: Path) -> Iterator[Connection]:
    """A connection that sees one consistent state of the database."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        source = url.database
        if not source or source == ":memory:" or not Path(source).is_file():
            raise BackupError(f"数据库文件不存在：{source}")
        copy = workdir / "snapshot.db"
        try:
            src = sqlite3.connect(source, timeout=30)
            out = sqlite3.connect(copy)
            try:
                src.backup(out, pages=-1)
            finally:
                out.close()
                src.close()
        except sqlite3.Error as exc:
            raise BackupError(f"复制 SQLite 数据库失败：{exc}") from None
        copy_engine = create_engine(f"sqlite:///{copy}")
        try:
            with copy_engine.connect() as conn:
                yield conn
        finally:
            copy_engine.dispose()
    elif url.get_backend_name() == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
    else:
        raise BackupError(f"不支持备份 {url.get_backend_name()} 数据库")


class _Hashing(io.RawIOBase):
    def __init__(self, fh):
        self.fh, self.digest = fh, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.fh.read(len(buffer))
        self.digest.update(data)
        buffer[: len(data)] = data
        return len(data)


def _add_file(tar: tarfile.TarFile, path: Path, arcname: str) -> dict:
    info = tarfile.TarInfo(arcname)
    with open(path, "rb") as fh:
        info.size = os.fstat(fh.fileno()).st_size
        info.mode, info.mtime = 0o600, int(os.fstat(fh.fileno()).st_mtime)
        hashing = _Hashing(fh)
        tar.addfile(info, io.BufferedReader(hashing))
    return {"sha256": hashing.digest.hexdigest(), "size": info.size}


def _add_folder(tar: tarfile.TarFile, folder: Path, label: str) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    if not folder.is_dir():
        return entries
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        arcname = f"files/{label}/{path.relative_to(folder).as_posix()}"
        entries[arcname] = _add_file(tar, path, arcname)
    return entries


def target_path(dest: Path, now: datetime, force: bool) -> Path:
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"tracker-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    if not dest.parent.is_dir():
        raise BackupError(f"目标目录不存在：{dest.parent}（先创建：install -d -m 0700 -o tracker {dest.parent}）")
    if dest.exists() and not force:
        raise BackupError(f"目标文件已存在：{dest}（加 --force 覆盖）")
    return dest


def make_backup(engine: Engine, config, dest: Path, now: datetime, *, force: bool = False) -> BackupResult:
    """Write the archive to ``dest`` (a file, or a folder for a dated name); ``now`` is naive UTC."""
    dest = target_path(dest, now, force)
    partial = dest.with_name(dest.name + ".part")
    manifest: dict = {"format": FORMAT, "version": VERSION, "created_at": now.isoformat() + "Z",
                      "dialect": engine.url.get_backend_name(), "tables": {}, "members": {}}
    files = 0
    try:
        with tempfile.TemporaryDirectory(prefix="tracker-backup-") as tmp, \
                open_private(partial) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            workdir = Path(tmp)
            with snapshot(engine, workdir) as conn:
                manifest["alembic_revision"] = alembic_revision(conn)
                for table in reflect_tables(conn):
                    dumped = dump_table(conn, table, workdir / f"{table.name}.jsonl")
                    manifest["tables"][table.name] = dumped["rows"]
                    arcname = f"database/{table.name}.jsonl"
                    manifest["members"][arcname] = _add_file(tar, workdir / f"{table.name}.jsonl", arcname)
            for label, folder in file_folders(config).items():
                entries = _add_folder(tar, folder, label)
                manifest["members"].update(entries)
                files += len(entries)
            data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
        os.replace(partial, dest)
    except OSError as exc:
        raise BackupError(f"写入备份失败：{exc.strerror or exc}") from None
    finally:
        if partial.exists():
            partial.unlink()
    return BackupResult(dest, dest.stat().st_size, manifest["tables"], files)
