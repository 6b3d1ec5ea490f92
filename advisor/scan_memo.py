"""The whole-scan memo: when nothing a scan depends on has changed since the
last one (the same files with the same sizes and mtimes, the same rules and
settings, the same profiles, the same measured interpreter), its ranked
findings are the answer, and the project-wide steps (refine, import costs,
call graph) are skipped. A warm rescan then costs a stat() per file and one
small pickle.

Anything in doubt changes the key: a miss only costs the normal scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.evidence.profile import Evidence

#: 2: the payload carries the seconds the memoised scan took.
MEMO_FORMAT = 2


def memo_key(cache_key: str, files: list[str], stamps: dict[str, str], config: "Config",
             evidence: "Evidence | None") -> str:
    """A digest of everything the ranked findings of a scan depend on."""
    parts = {
        "format": MEMO_FORMAT,
        "rules": cache_key,
        "cwd": os.getcwd(),
        "files": [(path, stamps.get(path, "")) for path in files],
        "evidence": _evidence_stamp(evidence),
        "environment": environment_stamp(config),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def load(config: "Config", key: str) -> Any:
    """The memo stored under ``key``, or None."""
    try:
        with open(_memo_file(config), "rb") as handle:
            stored_key, payload = pickle.load(handle)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError, AttributeError, ImportError):
        return None
    return payload if stored_key == key else None


def store(config: "Config", key: str, payload: Any) -> None:
    """Keep one memo per cache directory: the last scan's."""
    try:
        atomic_write_bytes(_memo_file(config), pickle.dumps((key, payload), protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only checkout still scans, just without the memo


def _memo_file(config: "Config") -> Path:
    return config.cache_path() / "last-scan.pickle"


def _evidence_stamp(evidence: "Evidence | None") -> list[Any]:
    if evidence is None:
        return []
    return [(source, _stat(Path(source))) for source in evidence.sources]


def environment_stamp(config: "Config") -> list[Any]:
    """What measured import costs depend on: the interpreter, its import-time
    cache, and the mtimes of its sys.path directories (installing or removing
    a package changes them)."""
    if not config.measure_imports:
        return ["table"]
    python = shutil.which(config.python) or config.python
    cache_file = config.cache_path() / "importtime.json"
    stamp: list[Any] = [os.path.realpath(python), _stat(Path(python)), _stat(cache_file)]
    try:
        data = json.loads(cache_file.read_text("utf-8"))
        paths = data["entries"]["__probe__"]["paths"]
    except (OSError, ValueError, KeyError, TypeError):
        return stamp
    for entry in sorted(paths):
        stamp.append((entry, _stat(Path(config.root) / entry if entry else Path(config.root))))
    return stamp


def _stat(path: Path) -> str:
    try:
        result = os.stat(path)
    except OSError:
        return "missing"
    return f"{result.st_size}-{result.st_mtime_ns}"
