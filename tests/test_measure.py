"""Interleaved before/after measurement (advisor/evidence/interleave.py,
advisor/evidence/import_delta.py, advisor/fix/measure.py).

No timing assertions: the arithmetic and the run order are checked with
fake runners that return preset times; one real subprocess run through the
CLI checks only the deterministic figure (which modules stopped loading).
"""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import dedent

import pytest

from advisor.errors import UsageError
from advisor.evidence.import_delta import import_delta
from advisor.evidence.interleave import Comparison, Runs, interleave
from advisor.fix.measure import Version, measure_fix
from conftest import run_advisor


def test_runs_alternate_in_abba_order_after_one_warmup_each() -> None:
    order: list[str] = []

    def before() -> float:
        order.append("B")
        return 100.0

    def after() -> float:
        order.append("A")
        return 90.0

    result = interleave(before, after, pairs=4)
    assert "".join(order) == "BA" + "BA" "AB" "BA" "AB"
    assert result.before.times_ms == (100.0,) * 4 and result.after.times_ms == (90.0,) * 4


def test_a_steady_saving_is_measurable() -> None:
    result = Comparison(Runs((100.0, 104.0, 99.0, 101.0, 103.0)), Runs((80.0, 85.0, 79.0, 80.0, 84.0)))
    assert result.diffs_ms == (-20.0, -19.0, -20.0, -21.0, -19.0)
    assert result.change_ms == -20.0 and result.mad_ms == 1.0
    assert result.measurable
    text = "\n".join(result.lines())
    assert "saving 20.0 ms (20 %)" in text and "best     99.0 ms" in text and "median    101.0 ms" in text


def test_a_difference_within_the_noise_is_no_measurable_change() -> None:
    """Two blocks timed apart would call this a 4 ms saving; paired, it is noise."""
    before = Runs((200.0, 230.0, 190.0, 250.0, 205.0, 215.0, 240.0))
    after = Runs((196.0, 236.0, 185.0, 240.0, 209.0, 201.0, 246.0))
    result = Comparison(before, after)
    assert not result.measurable
    assert abs(result.change_ms) <= result.noise_ms
    assert "no measurable change" in "\n".join(result.lines())


def test_fewer_than_three_pairs_never_claim_a_change() -> None:
    result = Comparison(Runs((100.0, 100.0)), Runs((50.0, 50.0)))
    assert not result.measurable and "fewer than 3 pairs" in "\n".join(result.lines())


def test_import_delta_names_the_modules_no_longer_loaded() -> None:
    before = dedent("""\
        import time:       300 |        300 | site
        import time:      5000 |       5000 |   asyncio.events
        import time:     20000 |      25000 | asyncio
        import time:       100 |        100 | app
    """)
    after = "import time:       300 |        300 | site\nimport time:       150 |        150 | app\nimport time:  10 | 10 | tiny\n"
    delta = import_delta(before, after)
    assert delta.removed == {"asyncio.events": 5.0, "asyncio": 20.0} and delta.added == {"tiny": 0.01}
    assert delta.removed_ms == 25.0
    text = "\n".join(delta.lines())
    assert "modules no longer loaded: 2 (25.0 ms" in text and "asyncio (20.0 ms), asyncio.events (5.0 ms)" in text
    assert not import_delta("", after).logged


def _variants(tmp_path: Path) -> tuple[Path, list[Version], list[Version]]:
    path = tmp_path / "mod.py"
    path.write_bytes(b"fixed\n")
    return path, [Version(path, b"original\n", 1_000_000_000)], [Version(path, b"fixed\n", 2_000_000_000)]


def test_each_run_sees_its_own_tree_and_the_fixed_tree_stays(tmp_path: Path) -> None:
    path, before, after = _variants(tmp_path)
    seen: list[tuple[str, int, str]] = []

    def run(command: str, env: dict[str, str]) -> float:
        assert "PYTHONPROFILEIMPORTTIME" not in env  # timed runs log nothing
        seen.append((path.read_text().strip(), path.stat().st_mtime_ns, "before" if b"original" in path.read_bytes() else "after"))
        return 120.0 if path.read_bytes() == b"original\n" else 100.0

    def log(command: str, env: dict[str, str]) -> str:
        assert env["PYTHONPROFILEIMPORTTIME"] == "1"
        extra = "import time:  4000 | 4000 | heavy\n" if path.read_bytes() == b"original\n" else ""
        return "import time:  100 | 100 | mod\n" + extra

    result = measure_fix("cmd", before, after, runs=3, cwd=tmp_path, timeout=10, run=run, log=log)
    assert set(seen) == {("original", 1_000_000_000, "before"), ("fixed", 2_000_000_000, "after")}
    assert len(seen) == 8  # one warm-up and three timed runs per side
    assert result.comparison.change_ms == -20.0 and result.delta.removed == {"heavy": 4.0}
    assert path.read_bytes() == b"fixed\n"
    assert "saving 20.0 ms" in result.render() and "modules no longer loaded: 1 (4.0 ms" in result.render()


def test_a_failing_run_still_leaves_the_fixed_tree(tmp_path: Path) -> None:
    path, before, after = _variants(tmp_path)
    calls = []

    def run(command: str, env: dict[str, str]) -> float:
        calls.append(1)
        if len(calls) == 3:
            assert path.read_bytes() == b"original\n"
            raise UsageError("--measure: `cmd` failed (exit 1)")
        return 1.0

    with pytest.raises(UsageError):
        measure_fix("cmd", before, after, runs=3, cwd=tmp_path, timeout=10, run=run, log=lambda c, e: "")
    assert path.read_bytes() == b"fixed\n"


def test_cli_measure_runs_interleaved_and_names_the_module_no_longer_loaded(tmp_path: Path) -> None:
    """A real run: `import a` stops loading asyncio once the fix moves the import
    into run(); the wall-time verdict is not asserted (a shared machine)."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.advisor]\nmeasure-imports = false\n')
    (project / "a.py").write_text("import asyncio\n\n\ndef run():\n    return asyncio.run(asyncio.sleep(0, result=1))\n")
    result = run_advisor("fix", ".", "--measure", f"{sys.executable} -c \"import a\"", "--runs", "3", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "3 runs each, interleaved" in out and "before  best" in out and "after   best" in out
    assert ("no measurable change" in out) or ("saving" in out) or ("slower by" in out)
    removed = next(line for line in out.splitlines() if "modules no longer loaded" in line)
    assert int(removed.split(":")[1].split("(")[0]) >= 1
    assert (project / "a.py").read_text().startswith("def run():\n    import asyncio\n")


def test_a_real_run_finds_the_deferred_module_among_those_no_longer_loaded(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def run():\n    import asyncio\n    return asyncio\n")
    now = [Version(tmp_path / "a.py", (tmp_path / "a.py").read_bytes(), (tmp_path / "a.py").stat().st_mtime_ns)]
    was = [Version(tmp_path / "a.py", b"import asyncio\n\n\ndef run():\n    return asyncio\n", now[0].mtime_ns - 10**9)]
    result = measure_fix(f"{sys.executable} -c \"import a\"", was, now, runs=1, cwd=tmp_path, timeout=60)
    assert {"asyncio", "asyncio.base_events"} <= set(result.delta.removed)
    assert (tmp_path / "a.py").read_bytes() == now[0].data
