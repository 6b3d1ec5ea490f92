"""Remove the temp files a killed ``advisor fix`` left beside the user's files.

An atomic write needs its temp file in the target's own directory (os.replace
does not cross file systems), so a SIGKILL between creating it and renaming
it leaves ``.NAME.advisor-PID.XXXX.tmp`` there. The next ``fix`` removes
those whose process is gone; one whose process still runs is another
advisor's write in progress and is left alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

#: ``.cli.py.advisor-1234.k3j_x9a2.tmp``: the name advisor.atomic gives a temp file.
_TEMP = re.compile(r"^\.(?P<name>.+)\.advisor-(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def remove_stale_temps(files: Iterable[Path]) -> list[Path]:
    """Remove stale advisor temp files beside ``files``; return what was removed."""
    removed = []
    for directory in sorted({path.parent for path in files}):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            match = _TEMP.match(name)
            if match is None or _alive(int(match.group("pid"))):
                continue
            try:
                (directory / name).unlink()
            except OSError:
                continue
            removed.append(directory / name)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (our own counts as alive)."""
    if pid == os.getpid() or os.name == "nt":  # (os.kill(pid, 0) ends the process on Windows)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but not ours, or cannot tell: leave its file alone
    return True
