"""``restore SOURCE``: load a ``backup`` archive into an empty database and instance folder.

Order: unpack and check every member against the manifest (nothing touched yet); check the
target is empty (or, with ``replace``, empty it); migrate the schema to the archive's revision;
load every table in one transaction and compare the counts; move the files in; migrate to head.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Engine

from ..files import open_private, private_dir
from .backup import FORMAT, MANIFEST, VERSION, file_folders
from .rows import count_rows, load_table, reflect_tables, reset_sequences

TABLE_MEMBER = re.compile(r"^database/([A-Za-z0-9_]+)\.jsonl$")


class RestoreError(Exception):
    """A one-line reason the archive was not restored."""


@dataclass
class RestoreResult:
    tables: dict[str, int]
    files: int
    revision: str | None
    notes: list[str] = field(default_factory=list)


def _member_path(name: str, labels) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise RestoreError(f"备份中有不安全的路径：{name}")
    if name == MANIFEST or TABLE_MEMBER.match(name):
        return path
    if len(path.parts) >= 3 and path.parts[0] == "files" and path.parts[1] in labels:
        return path
    raise RestoreError(f"备份中有无法识别的内容：{name}")


def unpack(source: Path, workdir: Path, labels) -> dict:
    """Extract the archive into ``workdir`` and check it against its manifest; returns the manifest."""
    if not Path(source).is_file():
        raise RestoreError(f"备份文件不存在：{source}")
    digests: dict[str, tuple[str, int]] = {}
    try:
        with tarfile.open(source, mode="r:gz") as tar:
            for member in tar:
                if not member.isfile():
                    raise RestoreError(f"备份中有非普通文件：{member.name}")
                rel = _member_path(member.name, labels)
                target = workdir / rel
                private_dir(target.parent)
                digest, size = hashlib.sha256(), 0
                with tar.extractfile(member) as src, open_private(target) as out:
                    for chunk in iter(lambda: src.read(1 << 20), b""):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                digests[member.name] = (digest.hexdigest(), size)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RestoreError(f"无法读取备份文件 {source}：{exc}") from None
    try:
        manifest = json.loads((workdir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RestoreError("备份中没有有效的 manifest.json") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise RestoreError("不是本系统的备份文件（格式或版本不符）")
    members = manifest.get("members", {})
    for name, entry in members.items():
        if name not in digests:
            raise RestoreError(f"备份不完整：缺少 {name}")
        if digests[name] != (entry["sha256"], entry["size"]):
            raise RestoreError(f"校验失败：{name} 的 sha256 与清单不符")
    extra = set(digests) - set(members) - {MANIFEST}
    if extra:
        raise RestoreError(f"备份中有清单外的文件：{sorted(extra)[0]}")
    for table in manifest.get("tables", {}):
        if f"database/{table}.jsonl" not in members:
            raise RestoreError(f"备份不完整：缺少表 {table}")
    return manifest


def target_contents(engine: Engine, folders: dict[str, Path]) -> list[str]:
    """What is already in the target: tables with rows and folders with files."""
    found = []
    with engine.connect() as conn:
        tables = reflect_tables(conn)
        found += [f"表 {name}（{n} 行）" for name, n in count_rows(conn, tables).items() if n]
    for folder in folders.values():
        if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
            found.append(f"目录 {folder}")
    return found


def empty_target(engine: Engine, folders: dict[str, Path]) -> None:
    """``--replace``: drop every table (Alembic's too) and remove the files of the folders."""
    with engine.begin() as conn:
        metadata = MetaData()
        metadata.reflect(bind=conn)
        metadata.drop_all(bind=conn)
    for folder in folders.values():
        if folder.is_dir():
            for child in folder.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()


def load_rows(engine: Engine, workdir: Path, expected: dict[str, int]) -> dict[str, int]:
    """Insert every table in one transaction; the counts must match the manifest."""
    with engine.begin() as conn:
        tables = {t.name: t for t in reflect_tables(conn)}
        missing = sorted(set(expected) - set(tables))
        if missing:
            raise RestoreError(f"数据库中没有表 {missing[0]}：备份与程序版本不符")
        present = [t for t in tables.values() if t.name in expected]
        for table in present:
            load_table(conn, table, workdir / "database" / f"{table.name}.jsonl")
        counts = count_rows(conn, present)
        wrong = {name: (counts[name], n) for name, n in expected.items() if counts[name] != n}
        if wrong:
            name, (got, want) = next(iter(wrong.items()))
            raise RestoreError(f"表 {name} 恢复后 {got} 行，清单为 {want} 行：已回滚")
        reset_sequences(conn, present)
        if "data_revision" in tables:  # running readers must not keep caches of the old data
            conn.execute(text("UPDATE data_revision SET token = :t"), {"t": secrets.token_hex(8)})
    return counts


def move_files(workdir: Path, folders: dict[str, Path], members: dict) -> int:
    moved = 0
    for name in members:
        parts = PurePosixPath(name).parts
        if parts[0] != "files":
            continue
        target = folders[parts[1]].joinpath(*parts[2:])
        private_dir(target.parent)
        shutil.move(str(workdir.joinpath(*parts)), target)
        moved += 1
    return moved


def restore(engine: Engine, config, instance_path: Path, source: Path, migrate, *,
            replace: bool = False) -> RestoreResult:
    """``migrate(revision)`` upgrades the configured database to ``revision``."""
    folders = file_folders(config)
    private_dir(instance_path)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=instance_path) as tmp:
        workdir = Path(tmp)
        manifest = unpack(source, workdir, folders)
        revision = manifest.get("alembic_revision")
        found = target_contents(engine, folders)
        if found and not replace:
            raise RestoreError(f"目标不是空的（{found[0]} 等 {len(found)} 处）；确认要覆盖请加 --replace")
        if found or inspect(engine).get_table_names():
            empty_target(engine, folders)  # empty tables (e.g. after init-db) are rebuilt at the archive's revision
        migrate(revision or "head")
        counts = load_rows(engine, workdir, manifest["tables"])
        files = move_files(workdir, folders, manifest["members"])
        migrate("head")
    notes = [] if revision else ["备份未记录迁移版本，已按当前程序的结构恢复"]
    return RestoreResult(counts, files, revision, notes)
