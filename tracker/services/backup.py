"""Online backup of the embedded SQLite database (sqlite3's backup API).

The copy is consistent even while gunicorn workers write: SQLite's backup API
restarts a step when the source changes under it, and with ``pages=-1`` it
copies the whole database in one step under a read lock.
"""
from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL


class BackupError(Exception):
    """A one-line reason the backup was not made."""


def pg_dump_hint(url: URL, dest: Path) -> str:
    plain = url.set(drivername="postgresql").render_as_string(hide_password=True)
    return (f"PostgreSQL 数据库请用 pg_dump 备份，例如：pg_dump --format=custom --file={dest} '{plain}'"
            f"（恢复用 pg_restore，见 docs/deploy.md）")


def backup_database(url: URL, dest: Path, *, force: bool = False,
                    now: datetime | None = None) -> tuple[Path, int]:
    """Back up the SQLite database at ``url`` to ``dest``; return (path, size in bytes)."""
    if url.get_backend_name() == "postgresql":
        raise BackupError(pg_dump_hint(url, dest))
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"不支持备份 {url.get_backend_name()} 数据库")
    source = url.database
    if not source or source == ":memory:":
        raise BackupError("内存数据库无法备份")
    if not Path(source).is_file():
        raise BackupError(f"数据库文件不存在：{source}")

    dest = Path(dest)
    if dest.is_dir():
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        dest = dest / f"tracker-{stamp}.db"
    if dest.exists() and not force:
        raise BackupError(f"目标文件已存在：{dest}（加 --force 覆盖）")
    if not dest.parent.is_dir():
        raise BackupError(f"目标目录不存在：{dest.parent}")
    if dest.resolve() == Path(source).resolve():
        raise BackupError("目标文件不能是数据库文件本身")

    partial = dest.with_name(dest.name + ".part")
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            out = sqlite3.connect(partial)
            try:
                src.backup(out, pages=-1)
                ok = out.execute("PRAGMA integrity_check").fetchone()[0]
                # A self-contained file: no -wal beside it.
                out.execute("PRAGMA journal_mode=DELETE")
            finally:
                out.close()
        finally:
            src.close()
        if ok != "ok":
            raise BackupError(f"备份文件完整性检查失败：{ok}")
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"备份失败：{exc}") from None
    finally:
        if partial.exists():
            partial.unlink()
    return dest, dest.stat().st_size
