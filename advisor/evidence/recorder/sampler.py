"""A sampling thread: every ``interval`` it reads the main thread's stack
(``sys._current_frames``) and charges the time since the last sample to it,
as py-spy does from outside the process. The samples are saved as a
pyinstrument session, so everything that reads sessions reads these.

Why not pyinstrument's own profiler (``--sampler pyinstrument``): it hooks
``setprofile`` and runs a C callback on every call and return, which costs
2-3x on code that makes many small calls (benchmarks/profile_overhead.py);
a thread costs a stack walk per sample. To sample about every ``interval``,
the interpreter's switch interval is lowered to it while the program runs
(the main thread hands over the GIL that often when another thread waits).
"""

from __future__ import annotations

import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any


class ThreadSampler:
    def __init__(self, interval: float, target: list[str]) -> None:
        self.interval = max(interval, 0.0005)
        self.description = "Program: " + " ".join(target)
        self.records: dict[tuple[str, ...], float] = {}
        self.samples = 0
        self._names: dict[CodeType, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="advisor-sampler", daemon=True)
        self._target = threading.main_thread().ident
        self._switch = sys.getswitchinterval()
        self._started = self._last = self._started_at = 0.0
        self._wall = 0.0
        self._cpu = 0.0

    def start(self) -> None:
        self._started_at = time.time()
        self._started = self._last = time.perf_counter()
        self._cpu = time.process_time()
        sys.setswitchinterval(self.interval)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        sys.setswitchinterval(self._switch)
        self._wall = time.perf_counter() - self._started
        self._cpu = time.process_time() - self._cpu

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self._target)  # type: ignore[arg-type]
            now = time.perf_counter()
            elapsed, self._last = now - self._last, now
            if frame is not None:
                stack = self._stack(frame)
                self.records[stack] = self.records.get(stack, 0.0) + elapsed
                self.samples += 1

    def _stack(self, frame: FrameType | None) -> tuple[str, ...]:
        names = []
        while frame is not None:
            code = frame.f_code
            name = self._names.get(code)
            if name is None:
                # pyinstrument's identifier: function, file, co_firstlineno.
                qualname = getattr(code, "co_qualname", code.co_name)
                name = self._names[code] = f"{qualname}\x00{code.co_filename}\x00{code.co_firstlineno}"
            names.append(name)
            frame = frame.f_back
        names.reverse()
        return tuple(names)

    def save(self, path: str) -> None:
        from pyinstrument.session import Session

        records: list[Any] = [(list(stack), seconds) for stack, seconds in self.records.items()]
        session = Session(
            frame_records=records, start_time=self._started_at, duration=self._wall,
            min_interval=self.interval, max_interval=self.interval, sample_count=self.samples,
            start_call_stack=[], target_description=self.description, cpu_time=self._cpu,
            sys_path=list(sys.path), sys_prefixes=Session.current_sys_prefixes(),
        )
        session.save(path)

