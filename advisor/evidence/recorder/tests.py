"""Per-test times when the profiled command is pytest: a plugin that
``advisor profile`` names in ``PYTEST_PLUGINS`` (it is already imported, so
pytest finds it in ``sys.modules``). It takes its name out of the variable
once pytest has read it, so subprocesses (pytest-xdist workers) never look for it.

PYTEST_DONT_REWRITE (it is imported before pytest could rewrite it)."""

from __future__ import annotations

import os
from typing import Any

#: nodeid -> seconds of setup + call + teardown.
DURATIONS: dict[str, float] = {}
TOP = 20


def pytest_configure(config: Any) -> None:
    names = [n for n in os.environ.get("PYTEST_PLUGINS", "").split(",") if n.strip() and n.strip() != __name__]
    if names:
        os.environ["PYTEST_PLUGINS"] = ",".join(names)
    else:
        os.environ.pop("PYTEST_PLUGINS", None)


def pytest_runtest_logreport(report: Any) -> None:
    DURATIONS[report.nodeid] = DURATIONS.get(report.nodeid, 0.0) + float(getattr(report, "duration", 0.0))


def rows() -> list[dict[str, Any]]:
    slowest = sorted(DURATIONS.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return [{"id": nodeid, "seconds": round(seconds, 6)} for nodeid, seconds in slowest]


def count() -> int:
    return len(DURATIONS)
