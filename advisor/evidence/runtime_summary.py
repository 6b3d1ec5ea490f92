"""What ``advisor profile`` prints about the recorded run, after the time
table: slowest tests, repeated round trips, cache candidates, top allocators."""

from __future__ import annotations

import os
from pathlib import Path

from advisor.evidence.runtime import RuntimeEvidence
from advisor.evidence.words import count, megabytes, place, plural, seconds


def summary_lines(runtime: RuntimeEvidence, root: Path, limit: int = 8) -> list[str]:
    lines: list[str] = []
    if runtime.slowest_tests:
        lines.append(f"slowest tests ({runtime.tests_run} run):")
        lines.extend(f"  {seconds(s):>8}  {test}" for test, s in runtime.slowest_tests[:limit])
    trips = sorted(runtime.round_trips, key=lambda t: (-t.seconds, -t.count))
    if trips:
        total = sum(t.count for t in runtime.round_trips)
        lines.append(f"round trips ({count(total)} recorded), by time:")
        for trip in trips[:limit]:
            where = place(trip.stack[0][0], trip.stack[0][1], root) if trip.stack else "?"
            what = "quer" + ("ies" if trip.count != 1 else "y") if trip.kind == "sql" else plural(trip.count, "request")[len(count(trip.count)) + 1:]
            lines.append(f"  {count(trip.count):>7} {what:<8} {seconds(trip.seconds):>8}  {where}  {trip.shape[:90]}")
    candidates = [c for c in runtime.calls if c.distinct_args < c.calls]
    candidates.sort(key=lambda c: -c.seconds)
    if candidates:
        lines.append("repeated calls (distinct arguments of all calls):")
        for c in candidates[:limit]:
            lines.append(f"  {count(c.calls):>7} calls {count(c.distinct_args):>5} distinct  {seconds(c.seconds):>8}  "
                         f"{c.function}() at {place(c.path, c.line, root)}, results {c.results}")
    if runtime.peak_bytes is not None:
        lines.append(f"memory: peak {megabytes(runtime.peak_bytes)} traced; project lines holding the most:")
        for m in runtime.memory[:limit]:
            lines.append(f"  {megabytes(m.peak_bytes):>9} at peak {megabytes(m.net_bytes):>9} at end  {place(m.path, m.line, root)}")
    return lines


def relative(path: str, root: Path) -> str:
    try:
        return os.path.relpath(path, root)
    except ValueError:
        return path
