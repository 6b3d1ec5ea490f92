"""``advisor budget``: median of timed runs, exit 1 over budget, culprits named.

No timing assertions: the arithmetic runs on a fake clock, and the CLI tests
use budgets no run can meet (0 ms) or miss (10^7 ms).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from advisor.evidence.budget import (
    CommandFailed, Culprit, Timing, Verdict, check_budget, compare_trees, culprits, format_verdict, is_python,
    time_command,
)
from advisor.evidence.importtime import parse_importtime
from conftest import run_advisor

LOG = "\n".join([
    "import time: self [us] | cumulative | imported package",
    "import time:       300 |        300 | site",
    "import time:       500 |        500 |     _asyncio",
    "import time:     60000 |      60500 |   asyncio.base_events",
    "import time:      1000 |      61500 | asyncio",
    "import time:      2000 |       2000 | json",
    "import time:       100 |        100 |   yaml.nodes",
    "import time:     30000 |      30100 | yaml",
])


class FakeClock:
    """Returns preset instants: each run takes the next duration."""

    def __init__(self, durations_ms: list[float]) -> None:
        self.instants = []
        now = 0.0
        for duration in durations_ms:
            self.instants += [now, now + duration / 1000]
            now += 1.0
        self.instants.reverse()

    def __call__(self) -> float:
        return self.instants.pop()


def ok_runner(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(args[0], 0, "", "")


def test_median_and_fastest_skip_the_warmup_run() -> None:
    timing = time_command(["x"], runs=5, run=ok_runner, clock=FakeClock([900, 120, 100, 300, 110, 105]))
    assert timing.runs_ms == pytest.approx((120, 100, 300, 110, 105))
    assert timing.median_ms == pytest.approx(110) and timing.fastest_ms == pytest.approx(100)


def test_a_failing_command_is_not_timed() -> None:
    def failing(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args[0], 3, "", "Traceback: boom")

    with pytest.raises(CommandFailed) as info:
        time_command(["x"], run=failing, clock=FakeClock([1] * 10))
    assert info.value.returncode == 3 and "boom" in info.value.stderr


def test_culprits_are_the_costliest_outermost_imports() -> None:
    found = culprits(parse_importtime(LOG), unavoidable={"site"})
    assert found == [
        Culprit("asyncio", 61.5, (("asyncio.base_events", 60.5),)),
        Culprit("yaml", 30.1),  # yaml.nodes is too small to mention
        Culprit("json", 2.0),
    ]


def test_check_budget_blames_imports_only_when_over() -> None:
    calls: list[list[str]] = []

    def runner(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        stderr = LOG if (kwargs.get("env") or {}).get("PYTHONPROFILEIMPORTTIME") == "1" else ""
        if argv[1:] == ["-X", "importtime", "-c", "pass"]:
            stderr = "import time:       300 |        300 | site\n"
        return subprocess.CompletedProcess(argv, 0, "", stderr)

    within = check_budget(["python3", "-c", "import app"], 200, runs=3, run=runner, clock=FakeClock([100] * 4))
    assert not within.over and within.culprits == [] and len(calls) == 4
    over = check_budget(["python3", "-c", "import app"], 50, runs=3, run=runner, clock=FakeClock([100] * 4))
    assert over.over and over.overshoot_ms == pytest.approx(50)
    assert [c.module for c in over.culprits] == ["asyncio", "yaml", "json"]
    assert calls[-1] == ["python3", "-X", "importtime", "-c", "pass"]  # CMD's own interpreter


def test_format_verdict_names_what_covers_the_overshoot() -> None:
    found = culprits(parse_importtime(LOG), unavoidable={"site"})
    text = format_verdict(Verdict(Timing((150.0, 140.0, 160.0)), 100, found))
    assert text.splitlines()[0] == ("advisor budget: median 150 ms (fastest 140 ms, 3 runs, MAD 10.0 ms) "
                                    "is over the budget of 100 ms by 50 ms")
    assert " *    61.5 ms  asyncio\n       60.5 ms    via asyncio.base_events\n" in text
    assert "      30.1 ms  yaml" in text  # asyncio alone covers 50 ms: yaml is not starred
    assert "deferring these would cover the overshoot" in text
    short = format_verdict(Verdict(Timing((400.0,)), 100, found))
    assert "less than the overshoot" in short and "*" not in short
    assert "within the budget of 200 ms" in format_verdict(Verdict(Timing((150.0,)), 200))


def test_is_python() -> None:
    assert is_python(["/usr/bin/python3.12", "-c", "pass"]) and is_python(["python"]) and is_python(["pypy3"])
    assert not is_python(["advisor", "--help"]) and not is_python([])


# -- through the CLI ---------------------------------------------------------------------------


def test_cli_within_budget_exits_0() -> None:
    result = run_advisor("budget", "--max-ms", "10000000", "--runs", "2", "--", sys.executable, "-c", "pass")
    assert result.returncode == 0, result.stderr
    assert "is within the budget of 1e+07 ms" in result.stdout
    assert "median" in result.stdout and "fastest" in result.stdout


def test_cli_over_budget_exits_1_and_names_the_import(tmp_path: Path) -> None:
    (tmp_path / "slowmod.py").write_text("import time\ntime.sleep(0.3)\n", "utf-8")
    result = run_advisor("budget", "--max-ms", "0", "--runs", "1", "--", sys.executable, "-c", "import slowmod", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "is over the budget of 0 ms" in lines[0]
    assert lines[1].startswith("imports that pushed it over")
    assert lines[2].split()[-1] == "slowmod"  # the costliest import, named first


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    failing = run_advisor("budget", "--max-ms", "100", "--runs", "1", "--", sys.executable, "-c", "raise SystemExit(4)")
    assert failing.returncode == 2 and "exited with status 4" in failing.stderr
    assert run_advisor("budget", "--max-ms", "100").returncode == 2
    missing = run_advisor("budget", "--max-ms", "100", "--", str(tmp_path / "no-such-command"))
    assert missing.returncode == 2 and "command not found" in missing.stderr


def test_an_overshoot_within_the_scatter_says_so() -> None:
    text = format_verdict(Verdict(Timing((99.0, 104.0, 140.0, 60.0, 101.0)), 100))
    assert "over the budget of 100 ms by 1 ms" in text and "within the runs' scatter" in text
    assert "scatter" not in format_verdict(Verdict(Timing((150.0, 151.0, 149.0)), 100))


def test_against_an_old_tree_alternates_the_two_directories(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    cwds: list[Path] = []

    def runner(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        cwd = Path(kwargs["cwd"])
        if (kwargs.get("env") or {}).get("PYTHONPROFILEIMPORTTIME") == "1":
            heavy = "import time:  9000 | 9000 | pandas\n" if cwd == old else ""
            return subprocess.CompletedProcess(argv, 0, "", "import time:  100 | 100 | app\n" + heavy)
        cwds.append(cwd)
        return subprocess.CompletedProcess(argv, 0, "", "")

    # warm-up old, new; then ABBA: old new, new old, old new
    clock = FakeClock([500, 500, 130, 100, 101, 131, 129, 99])
    comparison, delta = compare_trees(["python3", "-c", "import app"], old, new, 3, run=runner, clock=clock)
    assert cwds == [old, new, old, new, new, old, old, new]
    assert comparison.before.times_ms == pytest.approx((130, 131, 129))
    assert comparison.after.times_ms == pytest.approx((100, 101, 99))
    assert comparison.measurable and comparison.change_ms == pytest.approx(-30)
    assert delta.removed == {"pandas": 9.0}


def test_cli_against_reports_the_comparison(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "mod.py").write_text("import json\n", "utf-8")
    (tmp_path / "mod.py").write_text("", "utf-8")
    result = run_advisor("budget", "--max-ms", "10000000", "--runs", "3", "--against", str(old), "--",
                         sys.executable, "-c", "import mod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "against the old tree, 3 runs each, interleaved" in result.stdout
    removed = result.stdout.split("modules no longer loaded:", 1)[1]
    assert "json" in removed.splitlines()[1]  # the current tree's mod no longer imports json
    missing = run_advisor("budget", "--max-ms", "1", "--against", str(tmp_path / "nope"), "--", sys.executable, "-c", "pass")
    assert missing.returncode == 2 and "not a directory" in missing.stderr
