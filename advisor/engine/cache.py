"""On-disk result cache: one JSON file per (advisor version, rules, config),
entries keyed by path and validated by size+mtime, then by content hash.

An unchanged tree is answered from stat() calls alone; libcst is not even
imported when every file hits. The file is data only (advisor.engine.cache_codec):
an entry is decoded, and checked, only when it is a hit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from advisor import __version__
from advisor.engine.cache_codec import BadCache, result_from_data, result_to_data, round_trips
from advisor.cache_files import damaged, notice, read_document, write_document
from advisor.findings import FileResult

#: 2: JSON instead of pickle (issue 16).
CACHE_FORMAT = 3  # 3: FileResult.imports (the project import graph)
_KIND = "results"


class ResultCache:
    """Per-file results from earlier scans with the same rules and settings."""

    def __init__(self, directory: Path | None, key: str) -> None:
        self.directory = directory
        self.key = f"{__version__}\0{key}"
        digest = hashlib.sha256(f"{CACHE_FORMAT}\0{self.key}".encode()).hexdigest()[:20]
        self.file = directory / f"results-{digest}.json" if directory else None
        #: path -> [size, mtime_ns, digest, result data]; decoded only on a hit.
        self.entries: dict[str, list[Any]] = self._load()
        self.dirty = False

    def lookup(self, path: Path, size: int, mtime_ns: int, data: bytes | None = None) -> FileResult | None:
        """The cached result if the file is unchanged (by stat, else by hash)."""
        entry = self.entries.get(str(path))
        if entry is None:
            return None
        if entry[0] == size and entry[1] == mtime_ns:
            return self._decoded(str(path), entry)
        if data is not None and entry[0] == size and content_digest(data) == entry[2]:
            entry[1] = mtime_ns
            self.dirty = True
            return self._decoded(str(path), entry)
        return None

    def store(self, path: Path, size: int, mtime_ns: int, data: bytes, result: FileResult) -> None:
        if self.file is None:
            return
        encoded = result_to_data(result)
        if round_trips(encoded):  # (else: a miss next time, never a changed result)
            self.entries[str(path)] = [size, mtime_ns, content_digest(data), encoded]
            self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        write_document(self.file, _KIND, CACHE_FORMAT, {"key": self.key, "entries": self.entries})

    def _decoded(self, path: str, entry: list[Any]) -> FileResult | None:
        try:
            return result_from_data(entry[3])
        except BadCache as exc:
            damaged(self.file, str(exc))
            del self.entries[path]
            self.dirty = True
            return None

    def _load(self) -> dict[str, list[Any]]:
        if self.file is None:
            return {}
        document = read_document(self.file, _KIND, CACHE_FORMAT)
        if document is None:
            return {}
        entries = document.get("entries")
        if document.get("key") != self.key or not isinstance(entries, dict):
            notice(f"ignored {self.file}: not the cache of these settings; it will be rebuilt")
            return {}
        valid = {path: entry for path, entry in entries.items() if _well_formed(entry)}
        if len(valid) != len(entries):
            damaged(self.file, f"{len(entries) - len(valid)} malformed entries")
        return valid


def _well_formed(entry: Any) -> bool:
    """[size, mtime_ns, digest, data]: the stat fields checked on every lookup."""
    return (isinstance(entry, list) and len(entry) == 4 and type(entry[0]) is int and type(entry[1]) is int
            and isinstance(entry[2], str))


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()
