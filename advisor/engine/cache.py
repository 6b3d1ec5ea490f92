"""On-disk result cache: one file per (advisor version, rules, config),
entries keyed by path and validated by size+mtime, then by content hash.

An unchanged tree is answered from stat() calls alone; libcst is not even
imported when every file hits.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path

from advisor import __version__
from advisor.atomic import atomic_write_with
from advisor.findings import FileResult

CACHE_FORMAT = 1


@dataclass
class Entry:
    size: int
    mtime_ns: int
    digest: str
    result: FileResult


class ResultCache:
    """Per-file results from earlier scans with the same rules and settings."""

    def __init__(self, directory: Path | None, key: str) -> None:
        self.directory = directory
        digest = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}\0{key}".encode()).hexdigest()[:20]
        self.file = directory / f"results-{digest}.pickle" if directory else None
        self.entries: dict[str, Entry] = self._load()
        self.dirty = False

    def lookup(self, path: Path, size: int, mtime_ns: int, data: bytes | None = None) -> FileResult | None:
        """The cached result if the file is unchanged (by stat, else by hash)."""
        entry = self.entries.get(str(path))
        if entry is None:
            return None
        if entry.size == size and entry.mtime_ns == mtime_ns:
            return entry.result
        if data is not None and entry.size == size and content_digest(data) == entry.digest:
            entry.mtime_ns = mtime_ns
            self.dirty = True
            return entry.result
        return None

    def store(self, path: Path, size: int, mtime_ns: int, data: bytes, result: FileResult) -> None:
        if self.file is None:
            return
        self.entries[str(path)] = Entry(size, mtime_ns, content_digest(data), result)
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            gitignore = self.directory.parent / ".gitignore"  # type: ignore[union-attr]
            if not gitignore.exists():
                gitignore.write_text("# created by advisor: caches and profiles are local\n*\n")
            # streamed into the temp file: no second copy of the whole cache in memory
            atomic_write_with(self.file, lambda handle: pickle.dump(self.entries, handle, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            pass  # an unwritable cache only costs time

    def _load(self) -> dict[str, Entry]:
        if self.file is None or not self.file.is_file():
            return {}
        try:
            with self.file.open("rb") as handle:
                entries = pickle.load(handle)
        except Exception:  # a damaged or foreign cache is just a miss
            return {}
        return entries if isinstance(entries, dict) else {}


def content_digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()
