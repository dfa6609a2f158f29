"""Evidence files (佐证材料): checked by content and name, stored outside static/.

``check_file`` reads and validates one upload without touching the database or
the disk; ``store_files`` writes checked files under random names and returns
what the caller needs to create ``Attachment`` rows. Files are written only
after every file and field of a report has passed validation, and removed
again when the database commit fails, so a refused report leaves nothing behind.
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Optional

from flask import current_app

from ..errors import Invalid, NotFound
from ..models import Attachment, User
from ..plans.tasks import get_task_for

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
ALLOWED_LABEL = "pdf、jpg、png、doc、docx、xls、xlsx、zip"

PDF_MAGIC = b"%PDF"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
FIELD = "files"


@dataclass
class CheckedFile:
    original_name: str
    ext: str
    data: bytes
    content_type: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)


# Evidence the browser may show inline (?inline=1); everything else is downloaded.
PREVIEWABLE = frozenset({"image/png", "image/jpeg", "application/pdf"})


def clean_filename(name: str) -> str:
    """The last path component, without control characters or quotes; Chinese kept."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '"<>|:*?')
    name = name.strip().strip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:200]
    return name


def _zip_names(data: bytes) -> Optional[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return None


def content_matches(ext: str, data: bytes) -> bool:
    """Does the content look like what the extension says?"""
    if ext == "pdf":
        return data.startswith(PDF_MAGIC)
    if ext in ("jpg", "jpeg"):
        return data.startswith(JPEG_MAGIC)
    if ext == "png":
        return data.startswith(PNG_MAGIC)
    if ext in ("doc", "xls"):
        return data.startswith(OLE2_MAGIC)
    if ext in ("docx", "xlsx", "zip"):
        if not data.startswith(ZIP_MAGIC):
            return False
        names = _zip_names(data)
        if names is None:
            return False
        if ext == "docx":
            return any(n.startswith("word/") for n in names)
        if ext == "xlsx":
            return any(n.startswith("xl/") for n in names)
        return True
    return False


def check_file(filename: str, stream: BinaryIO, max_bytes: Optional[int] = None) -> CheckedFile:
    """Validate one upload; Invalid({'files': [...]}) naming the file otherwise."""
    max_bytes = max_bytes or int(current_app.config["MAX_UPLOAD_BYTES"])
    name = clean_filename(filename)
    shown = name or "（无文件名）"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in CONTENT_TYPES:
        raise Invalid({FIELD: [f"文件“{shown}”的类型不允许，只能上传 {ALLOWED_LABEL}"]})
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Invalid({FIELD: [f"文件“{shown}”超过 {max_bytes // (1024 * 1024)} MB"]})
    if not data:
        raise Invalid({FIELD: [f"文件“{shown}”是空文件"]})
    if not content_matches(ext, data):
        raise Invalid({FIELD: [f"文件“{shown}”的内容与扩展名 .{ext} 不符，可能已损坏或被改名"]})
    return CheckedFile(original_name=name, ext=ext, data=data, content_type=CONTENT_TYPES[ext],
                       sha256=hashlib.sha256(data).hexdigest())


def check_files(files: Iterable) -> list[CheckedFile]:
    """Validate uploads (objects with ``filename`` and ``stream``); empty file inputs are skipped.

    All errors are collected so the form shows every bad file at once.
    """
    checked: list[CheckedFile] = []
    messages: list[str] = []
    for f in files or ():
        if f is None or not getattr(f, "filename", ""):
            continue
        try:
            checked.append(check_file(f.filename, f.stream))
        except Invalid as exc:
            messages.extend(exc.errors.get(FIELD, []))
    if len(checked) + len(messages) > 20:
        messages.append("一次最多上传 20 个文件")
    if messages:
        raise Invalid({FIELD: messages})
    return checked


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def store_files(checked: list[CheckedFile]) -> list[tuple[CheckedFile, str]]:
    """Write files under random names; returns (file, storage_name) pairs."""
    from ..files import private_dir, write_private

    folder = private_dir(upload_folder())  # 0700 folder, 0600 files: for the service user only
    stored: list[tuple[CheckedFile, str]] = []
    try:
        for f in checked:
            storage_name = f"{secrets.token_hex(16)}.{f.ext}"
            write_private(folder / storage_name, f.data, exclusive=True)
            stored.append((f, storage_name))
    except OSError:
        remove_files([s for _, s in stored])
        raise
    return stored


def remove_files(storage_names: Iterable[str]) -> None:
    folder = upload_folder()
    for name in storage_names:
        try:
            (folder / name).unlink()
        except OSError:
            pass


_STORAGE_RE = re.compile(r"^[0-9a-f]{32}\.[a-z]{2,4}$")


def attachment_path(att: Attachment) -> Path:
    if not _STORAGE_RE.match(att.storage_name or ""):
        raise NotFound("文件不存在")
    path = upload_folder() / att.storage_name
    if not path.is_file():
        current_app.logger.error("evidence file missing: attachment %s (task %s) expected at %s",
                                 att.id, att.task_id, path)
        raise NotFound(f"佐证材料“{att.original_name}”的文件在服务器上缺失（附件编号 {att.id}），"
                       f"可能未随备份恢复。请联系系统管理员从备份中恢复该文件。")
    return path


def get_attachment_for(actor: User, attachment_id: int) -> Attachment:
    """An attachment the actor may download (it may see the task); NotFound / Forbidden otherwise."""
    from ..extensions import db

    att = db.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("未找到该文件")
    get_task_for(actor, att.task_id)
    return att
