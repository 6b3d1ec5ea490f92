"""Atomic file writes: a temp file in the same directory, then os.replace.

A crash mid-write leaves the old file intact; readers never see half a file.
A new file gets the permissions any new file gets (the umask), not the
0600 of a temp file. Temp files are named ``.NAME.advisor-PID.XXXX.tmp``, so
that a later run can remove those a killed run left (advisor.fix.stale_temps).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Callable


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically, keeping ``mode`` (or the old file's)."""
    atomic_write_with(path, lambda handle: handle.write(data), mode)


def atomic_write_with(path: Path, write: Callable[[IO[bytes]], object], mode: int | None = None) -> None:
    """Let ``write`` fill a temp file beside ``path``, then swap it in
    atomically (keeping ``mode``, or the old file's). For large data that is
    better streamed (``pickle.dump``) than built in memory first."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.advisor-{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def new_file_mode() -> int:
    """What ``open(path, "w")`` would give a new file: 0666 less the umask."""
    mask = os.umask(0o022)  # (reading the umask means setting it; put back at once)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write text atomically (UTF-8 by default)."""
    atomic_write_bytes(path, text.encode(encoding))
