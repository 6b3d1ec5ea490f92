"""``advisor profile --memory``: allocations by project line with tracemalloc.

A poller thread watches the traced total and, each time it reaches a new high
(25 % above the last snapshot), takes a snapshot; the highest one gives the
bytes each line held at the peak, and a final snapshot the bytes still held at
the end (net). Each allocation is charged to the first project frame of its
traceback, so ``json.loads`` inside ``load_settings()`` counts for the line of
``load_settings()`` that called it. The peak between two polls can be missed:
the figures are "at the highest point seen", polled every ``POLL_S``.

Imports: ``builtins.__import__`` is wrapped while tracing, and the first
import of each absolute module name records the traced bytes it added and
kept (the module and everything it loaded that was not loaded yet), so a
``lazy-imports`` finding can say what its module holds, next to its time.
"""

from __future__ import annotations

import builtins
import sys
import threading
import tracemalloc  # advisor: ignore[lazy-imports]  (this module is tracemalloc's user, imported only for --memory)
from typing import Any

from .sites import ProjectFiles

FRAMES = 5
POLL_S = 0.05
GROWTH = 1.25
TOP = 25
IMPORTS = 100


class MemoryRecorder:
    def __init__(self, files: ProjectFiles) -> None:
        self.files = files
        self._peak: tracemalloc.Snapshot | None = None
        self._peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="advisor-memory", daemon=True)
        self.imports: dict[str, int] = {}
        self._import = builtins.__import__

    def start(self) -> None:
        tracemalloc.start(FRAMES)
        self._thread.start()
        builtins.__import__ = self._counting_import

    def _counting_import(self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if level or name in sys.modules:
            return self._import(name, globals, locals, fromlist, level)
        before = tracemalloc.get_traced_memory()[0]
        try:
            return self._import(name, globals, locals, fromlist, level)
        finally:
            if name in sys.modules and name not in self.imports and tracemalloc.is_tracing():
                self.imports[name] = max(tracemalloc.get_traced_memory()[0] - before, 0)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            current, _ = tracemalloc.get_traced_memory()
            if current > self._peak_bytes * GROWTH:
                self._peak = tracemalloc.take_snapshot()
                self._peak_bytes = current

    def stop(self) -> dict[str, Any]:
        builtins.__import__ = self._import
        self._stop.set()
        self._thread.join()
        final = tracemalloc.take_snapshot()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        at_peak = self._by_line(self._peak) if self._peak is not None else {}
        at_end = self._by_line(final)
        keys = sorted(set(at_peak) | set(at_end), key=lambda k: (-max(at_peak.get(k, 0), at_end.get(k, 0)), k))
        lines = [{"path": path, "line": line, "peak_bytes": at_peak.get((path, line), 0), "net_bytes": at_end.get((path, line), 0)}
                 for path, line in keys]
        imports = sorted(self.imports.items(), key=lambda kv: (-kv[1], kv[0]))[:IMPORTS]
        return {"peak_bytes": peak, "sampled_peak_bytes": self._peak_bytes, "lines": lines[:TOP],
                "imports": [{"module": name, "bytes": size} for name, size in imports]}

    def _by_line(self, snapshot: tracemalloc.Snapshot) -> dict[tuple[str, int], int]:
        totals: dict[tuple[str, int], int] = {}
        for stat in snapshot.statistics("traceback"):
            for frame in reversed(stat.traceback):  # (stored oldest first)
                path = self.files.real(frame.filename)
                if path is not None:
                    key = (path, frame.lineno)
                    totals[key] = totals.get(key, 0) + stat.size
                    break
        return totals
