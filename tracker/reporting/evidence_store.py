"""Where the bytes of evidence files (佐证材料) live (SPEC 6.5): the one module.

Two stores, chosen by ``TRACKER_EVIDENCE_STORE`` (config ``EVIDENCE_STORE``, default in config.py):

* ``files`` (the default, no set-up): files under ``UPLOAD_FOLDER`` (``instance/uploads``) with a
  random name, written before the report's commit and removed again when it fails
  (``reporting/attachments.py`` does the writing). Several hosts need that folder on a shared mount.
* ``database``: the bytes in ``evidence_blobs`` (one row per attachment, ``ON DELETE CASCADE``),
  inserted in the same transaction as the report, its ``attachments`` row and its audit entry, so
  there is never a file without its report nor a report without its file, and every host that
  reaches the database serves every file.

The setting decides where NEW uploads go. A download looks in the configured store first and then
in the other, so nothing is lost while ``move-evidence`` (below) moves existing files over, or when
the setting was switched before the move. Backups carry both: the folder as files, the table as rows.

``move_evidence(to, dry_run=…)`` moves every attachment's bytes to one store: it first checks every
file it will move (present, size and sha256 as recorded when it was uploaded) and moves nothing when
one is wrong; then each file is copied, read back and compared, and only then removed from the old
store. Run again it finds nothing left to move (idempotent); a run killed half-way is completed by
the next one.
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Optional, Union

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Attachment, EvidenceBlob

FILES = "files"
DATABASE = "database"
STORES = (FILES, DATABASE)
STORE_LABELS = {FILES: "文件目录", DATABASE: "数据库"}


class EvidenceStoreError(Exception):
    """A one-line reason (Chinese) why evidence could not be moved; ``problems`` lists each file's."""

    def __init__(self, message: str, problems: Optional[list[str]] = None):
        super().__init__(message)
        self.problems = problems or []


# --- the setting ------------------------------------------------------------------------------------

def store_name(config=None) -> str:
    """The configured store for new uploads: ``files`` or ``database``."""
    config = config if config is not None else current_app.config
    return str(config.get("EVIDENCE_STORE") or FILES).strip().lower()


def check_setting(config) -> None:
    """Refuse an unknown store at start (one line), instead of failing on the first upload."""
    from ..config import ConfigError

    name = store_name(config)
    if name not in STORES:
        raise ConfigError(f"TRACKER_EVIDENCE_STORE 应为 files 或 database，而不是“{name}”")


# --- writing (reporting/progress.py record_update) -----------------------------------------------------

def stage(checked: list) -> list[tuple[object, str]]:
    """Before the report's rows: (checked file, storage name) pairs; the files store writes the files now."""
    from . import attachments

    if store_name() == DATABASE:
        return [(f, f"{secrets.token_hex(16)}.{f.ext}") for f in checked]
    return attachments.store_files(checked)


def keep(att: Attachment, checked) -> None:
    """After adding ``att`` to the session: the database store adds the bytes to the same transaction."""
    if store_name() == DATABASE:
        db.session.add(EvidenceBlob(attachment=att, size=checked.size, sha256=checked.sha256, data=checked.data))


def discard(staged: Iterable[tuple[object, str]]) -> None:
    """The report's transaction failed (already rolled back): remove what ``stage`` wrote outside it."""
    from . import attachments

    if store_name() != DATABASE:
        attachments.remove_files([name for _, name in staged])


# --- reading (the download view) ------------------------------------------------------------------------

def _file_path(att: Attachment) -> Optional[Path]:
    from .attachments import _STORAGE_RE, upload_folder

    if not _STORAGE_RE.match(att.storage_name or ""):
        return None
    path = upload_folder() / att.storage_name
    return path if path.is_file() else None


def _blob_data(attachment_id: int) -> Optional[bytes]:
    data = db.session.execute(
        select(EvidenceBlob.data).where(EvidenceBlob.attachment_id == attachment_id)).scalar_one_or_none()
    return bytes(data) if data is not None else None


def open_evidence(att: Attachment) -> Union[Path, BinaryIO]:
    """The file to send: a path (files store) or an in-memory file (database store).

    The configured store is asked first, then the other; NotFound (a clear page, logged) when neither has it.
    """
    from .attachments import attachment_path

    if store_name() == DATABASE:
        data = _blob_data(att.id)
        if data is not None:
            return io.BytesIO(data)
        path = _file_path(att)
    else:
        path = _file_path(att)
        if path is None:
            data = _blob_data(att.id)
            if data is not None:
                return io.BytesIO(data)
    return path if path is not None else attachment_path(att)  # raises the "missing" NotFound


# --- moving existing files between the stores ---------------------------------------------------------

@dataclass
class MovePlan:
    to: str
    pending: list = field(default_factory=list)     # attachments whose bytes must move
    leftovers: list = field(default_factory=list)   # already in the target, still in the old store too
    already: int = 0                                 # only in the target: nothing to do
    problems: list[str] = field(default_factory=list)
    moved: int = 0
    moved_bytes: int = 0

    @property
    def pending_bytes(self) -> int:
        return sum(a.size for a in self.pending)


def _describe(att: Attachment) -> str:
    return f"附件 {att.id}（{att.original_name}，任务 {att.task_id}）"


def _verify(att: Attachment, data: Optional[bytes], where: str) -> Optional[str]:
    """None when ``data`` is the attachment's file as uploaded, else the problem."""
    if data is None:
        return f"{_describe(att)}在{where}中缺失"
    if len(data) != att.size:
        return f"{_describe(att)}在{where}中的大小为 {len(data)} 字节，应为 {att.size} 字节"
    if hashlib.sha256(data).hexdigest() != att.sha256:
        return f"{_describe(att)}在{where}中的 sha256 与上传时记录的不符"
    return None


def _read_file(att: Attachment) -> Optional[bytes]:
    path = _file_path(att)
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def plan_move(to: str) -> MovePlan:
    """What a move to ``to`` would do, with every problem found (reads and checks every file to move)."""
    if to not in STORES:
        raise EvidenceStoreError(f"目标应为 files 或 database，而不是“{to}”")
    from .attachments import _STORAGE_RE

    plan = MovePlan(to)
    blob_ids = set(db.session.execute(select(EvidenceBlob.attachment_id)).scalars())
    columns = (Attachment.id, Attachment.task_id, Attachment.storage_name, Attachment.original_name,
               Attachment.size, Attachment.sha256)
    for att in db.session.execute(select(*columns).order_by(Attachment.id)).all():  # plain rows: no expiry
        in_db, has_file = att.id in blob_ids, _file_path(att) is not None
        if (to == DATABASE and in_db and not has_file) or (to == FILES and not in_db):
            plan.already += 1
            continue
        leftover = False
        if not _STORAGE_RE.match(att.storage_name or ""):
            problem = f"{_describe(att)}的存储名无效：{att.storage_name!r}"
        elif to == DATABASE and in_db:
            # A copy left by an interrupted run: the database's must be right before the file goes.
            problem, leftover = _verify(att, _blob_data(att.id), "数据库"), True
        elif to == DATABASE:
            problem = _verify(att, _read_file(att), "文件目录")
        elif has_file:
            # Written back by an interrupted run: it must be the same file before the database's goes.
            problem, leftover = _verify(att, _read_file(att), "文件目录"), True
            problem = problem and problem + "（与数据库中的同一附件冲突，未覆盖）"
        else:
            problem = _verify(att, _blob_data(att.id), "数据库")
        if problem:
            plan.problems.append(problem)
        else:
            (plan.leftovers if leftover else plan.pending).append(att)
    db.session.rollback()  # read only: end the transaction (and its snapshot) before the move
    return plan


def _to_database(att: Attachment) -> None:
    data = _read_file(att)
    problem = _verify(att, data, "文件目录")
    if problem:
        raise EvidenceStoreError(problem)
    try:
        db.session.add(EvidenceBlob(attachment_id=att.id, size=len(data), sha256=att.sha256, data=data))
        db.session.commit()
    except IntegrityError:  # another run moved it meanwhile; compared below like our own copy
        db.session.rollback()
    _drop_file_copy(att)


def _drop_file_copy(att: Attachment) -> None:
    """The database holds the file (read back and compared): remove it from the folder."""
    problem = _verify(att, _blob_data(att.id), "数据库")
    db.session.rollback()
    if problem:
        raise EvidenceStoreError(problem + "（写入后读回不符，文件目录中的文件已保留）")
    path = _file_path(att)
    if path is not None:
        try:
            path.unlink()
        except OSError as exc:
            raise EvidenceStoreError(f"{_describe(att)}已存入数据库，但无法删除文件 {path}：{exc.strerror or exc}") from None


def _to_files(att: Attachment) -> None:
    from ..files import private_dir, write_private
    from .attachments import upload_folder

    data = _blob_data(att.id)
    problem = _verify(att, data, "数据库")
    if problem:
        raise EvidenceStoreError(problem)
    folder = private_dir(upload_folder())
    target = folder / att.storage_name
    partial = folder / f".{att.storage_name}.{secrets.token_hex(4)}.part"
    try:
        write_private(partial, data, exclusive=True)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise EvidenceStoreError(f"无法写入 {target}：{exc.strerror or exc}") from None
    _drop_blob_copy(att)


def _drop_blob_copy(att: Attachment) -> None:
    """The folder holds the file (read back and compared): remove the bytes from the database."""
    problem = _verify(att, _read_file(att), "文件目录")
    if problem:
        db.session.rollback()
        raise EvidenceStoreError(problem + "（写入后读回不符，数据库中的内容已保留）")
    db.session.execute(delete(EvidenceBlob).where(EvidenceBlob.attachment_id == att.id))
    db.session.commit()


def move_evidence(to: str, *, dry_run: bool = False) -> MovePlan:
    """Move every attachment's bytes into the store ``to``; EvidenceStoreError (nothing moved) on a problem.

    Each file is committed on its own: a failure part-way leaves every file in one store or the other
    (downloads look in both), and the next run continues where this one stopped.
    """
    from .. import audit

    plan = plan_move(to)
    if plan.problems:
        first = plan.problems[0] if len(plan.problems) == 1 else "见上"
        raise EvidenceStoreError(f"{len(plan.problems)} 个佐证材料无法移动，未移动任何文件：{first}"
                                 f"（可从备份中恢复这些文件后再运行）", plan.problems)
    if dry_run:
        return plan
    move = _to_database if to == DATABASE else _to_files
    drop = _drop_file_copy if to == DATABASE else _drop_blob_copy
    try:
        for att in plan.leftovers:
            drop(att)
        for att in plan.pending:
            move(att)
            plan.moved += 1
            plan.moved_bytes += att.size
    finally:
        db.session.rollback()
        if plan.moved or plan.leftovers:
            audit.record("move_evidence", None, username="system", detail=(
                f"佐证材料移至{STORE_LABELS[to]}：{plan.moved} 个（{plan.moved_bytes} 字节），"
                f"清理上次中断留下的副本 {len(plan.leftovers)} 个"
                + ("" if plan.moved == len(plan.pending) else f"；中途失败，尚余 {len(plan.pending) - plan.moved} 个")))
            db.session.commit()
    return plan


# --- the command -----------------------------------------------------------------------------------------

def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


@click.command("move-evidence")
@click.option("--to", "to", default="", metavar="files|database", help="目标：files（文件目录）或 database（数据库）")
@click.option("--dry-run", is_flag=True, help="只检查并列出要移动的文件，不移动")
@with_appcontext
def move_evidence_command(to: str, dry_run: bool) -> None:
    """Move the existing evidence files into the database (or back into the files folder).

    Every file is checked (size and sha256 as uploaded) before anything moves, and read back after it
    is written; a second run has nothing left to do.
    """
    from ..console import CommandError

    to = (to or "").strip().lower()
    if to not in STORES:
        raise CommandError(f"--to 应为 files 或 database{'，而不是“' + to + '”' if to else ''}")
    configured = store_name()
    if configured != to:
        click.echo(f"注意：当前设置 TRACKER_EVIDENCE_STORE={configured}，新上传的文件仍会存入"
                   f"{STORE_LABELS[configured]}；请在每台主机上改为 {to} 并重启。", err=True)
    try:
        plan = move_evidence(to, dry_run=dry_run)
    except EvidenceStoreError as exc:
        if len(exc.problems) > 1:
            for problem in exc.problems:
                click.echo(f"  - {problem}", err=True)
        raise CommandError(str(exc)) from None
    finally:
        db.session.remove()
    where = STORE_LABELS[to]
    if dry_run:
        click.echo(f"检查通过（未移动）：将有 {len(plan.pending)} 个文件（{_megabytes(plan.pending_bytes)}）移入{where}，"
                   f"已在{where}中 {plan.already} 个，需清理的旧副本 {len(plan.leftovers)} 个。")
        return
    if not plan.moved and not plan.leftovers:
        click.echo(f"没有需要移动的文件：{plan.already} 个已在{where}中。")
        return
    click.echo(f"已移入{where}：{plan.moved} 个文件（{_megabytes(plan.moved_bytes)}），每个都已按大小和 sha256 核对；"
               f"原已在{where}中 {plan.already} 个，清理旧副本 {len(plan.leftovers)} 个。")
