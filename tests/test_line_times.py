"""Line-level times from a real pyinstrument session (advisor/evidence/profile.py).

pyinstrument notes a frame's line only at call and return events, so only
lines that were calling something keep time; bytecode time (a loop of
additions) would land on whatever line makes the next call or returns, and
is not placed on a line at all. No timing assertions: only which lines got
any time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from advisor.evidence.profile import load_evidence
from advisor.findings import Finding, Impact, Span
from advisor.rank.score import rank_findings

SOURCE = dedent("""\
    def search(items, wanted):
        found = 0
        for x in wanted:
            found += items.index(x)
        return found


    def add_up(n):
        total = 0
        for i in range(n):
            total += i * i
        return total
""")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    pyinstrument = pytest.importorskip("pyinstrument")
    root = tmp_path_factory.mktemp("lines")
    module = root / "work_lines.py"
    module.write_text(SOURCE)
    sys.path.insert(0, str(root))
    try:
        import work_lines  # type: ignore[import-not-found]

        profiler = pyinstrument.Profiler(interval=0.001)
        profiler.start()
        work_lines.search(list(range(3000)), list(range(2000, 3000)) * 3)
        work_lines.add_up(300_000)
        profiler.stop()
    finally:
        sys.path.remove(str(root))
        sys.modules.pop("work_lines", None)
    session = root / "run.pyisession"
    profiler.last_session.save(str(session))
    return module, session


def test_only_lines_that_call_something_keep_time(recorded: tuple[Path, Path]) -> None:
    module, session = recorded
    lines = load_evidence([session]).line_s(os.path.realpath(module))
    assert lines is not None and lines.get(4, 0.0) > 0  # items.index(x): a call, placed on its line
    assert 5 not in lines and 12 not in lines  # `return`: bytecode time piles up there, not kept
    assert 11 not in lines  # total += i * i makes no call


def test_a_finding_on_a_call_line_gets_that_lines_time(recorded: tuple[Path, Path]) -> None:
    module, session = recorded
    evidence = load_evidence([session])
    index = Finding("quadratic-membership", str(module), Span(4, 17, 4, 31), "msg", Impact("runtime"))
    bytecode = Finding("concat-in-loop", str(module), Span(11, 8, 11, 25), "msg", Impact("runtime"))
    ranked, _ = rank_findings([index, bytecode], evidence, [module], None)
    by_line = {f.span.line: f for f in ranked}
    line_ms = evidence.line_s(os.path.realpath(module))[4] * 1000  # type: ignore[index]
    assert by_line[4].impact.estimate_ms == pytest.approx(round(line_ms, 1))
    assert by_line[4].impact.estimate_ms <= evidence.total_s * 1000  # type: ignore[operator]
    assert by_line[11].impact.estimate_ms is None and "cannot place bytecode time" in by_line[11].reason
