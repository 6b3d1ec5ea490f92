"""Which frames are the project's: the code that caused a round trip or an
allocation is the first frame outside the standard library, site-packages and
advisor's own recorder."""

from __future__ import annotations

import os
import sysconfig
from types import FrameType

#: Project frames kept per round trip: the call site and its callers, to find the loop.
STACK_DEPTH = 6

Site = tuple[str, int, str]  # (real path, line, function qualname)


class ProjectFiles:
    """Decides, once per file name, whether code in it is the project's."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root).rstrip(os.sep) + os.sep
        here = os.path.dirname(os.path.realpath(__file__))
        prefixes = {here}  # (not sys.prefix: a project may live below /usr or /opt)
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            path = sysconfig.get_paths().get(key)
            if path:
                prefixes.add(path)
        self.library = tuple(os.path.realpath(p).rstrip(os.sep) + os.sep for p in prefixes if p)
        self._known: dict[str, str | None] = {}

    def real(self, filename: str) -> str | None:
        """The real path of a project file, None for anything else."""
        try:
            return self._known[filename]
        except KeyError:
            pass
        real = None
        if filename and not filename.startswith("<"):
            path = os.path.realpath(filename)
            inside = path.startswith(self.root) and not path.startswith(self.library)
            if inside and "site-packages" not in path and "dist-packages" not in path:
                real = path
        self._known[filename] = real
        return real

    def stack(self, frame: FrameType | None, depth: int = STACK_DEPTH) -> tuple[Site, ...]:
        """The project frames from ``frame`` outwards, innermost first."""
        found: list[Site] = []
        while frame is not None and len(found) < depth:
            code = frame.f_code
            path = self.real(code.co_filename)
            if path is not None:
                found.append((path, frame.f_lineno, getattr(code, "co_qualname", code.co_name)))
            frame = frame.f_back
        return tuple(found)
