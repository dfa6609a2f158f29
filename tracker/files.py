"""Files the app writes are for the service user only: folders 0700, files 0600.

The modes are set explicitly here (``os.open`` with a mode, ``chmod`` of folders the app
creates or writes into), so they do not depend on the umask of whoever started the process.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten it if it is open to others."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for made in missing:
        _chmod_quietly(made, DIR_MODE)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        _chmod_quietly(path, DIR_MODE)
    return path


def _chmod_quietly(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:  # not ours (e.g. a shared parent): leave it
        pass


def open_private(path: str | Path, *, exclusive: bool = False):
    """Open ``path`` for binary writing with mode 0600, whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode on O_TRUNC
    except OSError:
        os.close(fd)
        raise
    return os.fdopen(fd, "wb")


def write_private(path: str | Path, data: bytes, *, exclusive: bool = False) -> Path:
    """Write ``data`` to ``path`` (0600) in a private folder."""
    path = Path(path)
    private_dir(path.parent)
    with open_private(path, exclusive=exclusive) as fh:
        fh.write(data)
    return path
