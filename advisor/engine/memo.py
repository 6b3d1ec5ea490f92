"""The whole-scan memo: when nothing a scan depends on has changed since the
last one (the same files with the same sizes and mtimes, the same rules and
settings, the same profiles, the same measured interpreter), its ranked
findings are the answer, and the project-wide steps (refine, import costs,
call graph) are skipped. A warm rescan then costs a stat() per file and one
small JSON file (data only: advisor.engine.cache_codec checks what it rebuilds).

Anything in doubt changes the key: a miss only costs the normal scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.evidence.profile import Evidence
    from advisor.findings import FileError, Finding

#: 2: JSON instead of pickle (issue 16); 3: the findings refine dropped;
#: 4: the seconds the memoised scan took.
MEMO_FORMAT = 4
_KIND = "scan-memo"
#: (ranked findings, errors, notices, findings the rules' refine dropped,
#: seconds the scan that computed them took)
Memo = tuple[list["Finding"], list["FileError"], list[str], list["Finding"], float]


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


def load(config: "Config", key: str) -> Memo | None:
    """The memo stored under ``key`` (findings, errors, notices, dropped, seconds), or None."""
    from advisor.engine.cache_codec import BadCache, error_from_data, finding_from_data
    from advisor.cache_files import damaged, read_document

    path = _memo_file(config)
    document = read_document(path, _KIND, MEMO_FORMAT)
    if document is None or document.get("key") != key:
        return None
    try:
        findings = [finding_from_data(f) for f in _items(document, "findings")]
        errors = [error_from_data(e) for e in _items(document, "errors")]
        notices = _items(document, "notices")
        dropped = [finding_from_data(f) for f in _items(document, "dropped")]
        if not all(isinstance(n, str) for n in notices):
            raise BadCache("a notice is not a string")
        seconds = document.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds < 1e9:
            raise BadCache("seconds is not a duration")
    except BadCache as exc:
        damaged(path, str(exc))
        return None
    return findings, errors, notices, dropped, float(seconds)


def store(config: "Config", key: str, payload: Memo) -> None:
    """Keep one memo per cache directory: the last scan's (only when JSON
    gives it back unchanged, so a remembered answer is the answer)."""
    from advisor.engine.cache_codec import error_to_data, finding_to_data, round_trips
    from advisor.cache_files import write_document

    findings, errors, notices, dropped, seconds = payload
    body = {"key": key, "findings": [finding_to_data(f) for f in findings],
            "errors": [error_to_data(e) for e in errors], "notices": list(notices),
            "dropped": [finding_to_data(f) for f in dropped], "seconds": seconds}
    if round_trips(body):
        write_document(_memo_file(config), _KIND, MEMO_FORMAT, body)


def _items(document: dict[str, Any], name: str) -> list[Any]:
    from advisor.engine.cache_codec import BadCache

    value = document.get(name)
    if not isinstance(value, list):
        raise BadCache(f"{name} is not a list")
    return value


def _memo_file(config: "Config") -> Path:
    return config.cache_path() / "last-scan.json"


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
        paths = sorted(str(entry) for entry in data["entries"]["__probe__"]["paths"])
    except (OSError, ValueError, KeyError, TypeError):
        return stamp
    for entry in paths:
        stamp.append((entry, _stat(Path(config.root) / entry if entry else Path(config.root))))
    return stamp


def _stat(path: Path) -> str:
    try:
        result = os.stat(path)
    except OSError:
        return "missing"
    return f"{result.st_size}-{result.st_mtime_ns}"
