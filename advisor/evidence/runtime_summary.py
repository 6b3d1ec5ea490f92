"""What ``advisor profile`` prints about the recorded run, after the time
table: slowest tests, repeated round trips, cache candidates, top allocators."""

from __future__ import annotations

from pathlib import Path

from advisor.evidence.runtime import RuntimeEvidence
from advisor.evidence.words import count, megabytes, place, seconds


def summary_lines(runtime: RuntimeEvidence, root: Path, limit: int = 8) -> list[str]:
    lines: list[str] = []
    if runtime.slowest_tests:
        lines.append(f"slowest tests ({runtime.tests_run} run):")
        lines.extend(f"  {seconds(s):>8}  {test}" for test, s in runtime.slowest_tests[:limit])
    trips = _by_line(runtime)
    if trips:
        total = sum(t.count for t in runtime.round_trips)
        lines.append(f"round trips ({count(total)} recorded), by time:")
        for (where, kind, shape), (n, secs) in trips[:limit]:
            what = ("quer" + ("ies" if n != 1 else "y")) if kind == "sql" else ("request" if n == 1 else "requests")
            lines.append(f"  {count(n):>7} {what:<8} {seconds(secs):>8}  {place(where[0], where[1], root)}  {shape[:90]}")
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


def _by_line(runtime: RuntimeEvidence) -> list[tuple[tuple[tuple[str, int], str, str], tuple[int, float]]]:
    """Round trips summed per (line, kind, shape) over the stacks that reach the line, by time."""
    totals: dict[tuple[tuple[str, int], str, str], list[float]] = {}
    for trip in runtime.round_trips:
        where = (trip.stack[0][0], trip.stack[0][1]) if trip.stack else ("?", 0)
        entry = totals.setdefault((where, trip.kind, trip.shape), [0, 0.0])
        entry[0] += trip.count
        entry[1] += trip.seconds
    rows = [(key, (int(n), secs)) for key, (n, secs) in totals.items()]
    return sorted(rows, key=lambda row: (-row[1][1], -row[1][0], row[0]))
