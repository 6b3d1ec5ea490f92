"""Worker processes that die, freeze or misbehave never hang or abort a scan.

tests/test_isolation.py covers a rule that raises, a worker that exits
(``os._exit``) and one that sleeps past the time limit. Here: a worker killed
by a signal (by itself, and from outside by this test while it works), one
stopped with SIGSTOP, results that cannot be pickled, a rule that exits or
recurses forever, and the per-file time limit's setting. Every subprocess has
a timeout as a guard against a hang; nothing asserts on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PLUGIN = '''
import os
import signal
import time
from pathlib import Path

from advisor.rule import Invalid, Rule, Valid


class Fault(Rule):
    """Misbehaves on purpose when a file asks it to.

    ## What it does
    Kills, stops or blocks its own process, or returns bad data, on markers.
    ## Why it matters
    It tests fault isolation.
    ## Example
    `# SIGKILL-SELF`
    ## Use instead
    Nothing.
    ## Fix safety
    None.
    ## Known limits
    None.
    ## Options
    None.
    """

    id = "fault"
    VALID = [Valid("x = 1\\n", why=f"valid-{i}") for i in range(3)]
    INVALID = [Invalid("# REPORT\\n", why=f"invalid-{i}") for i in range(3)]

    def visit_Module(self, node):
        code = node.code
        if "# SIGKILL-SELF" in code:
            os.kill(os.getpid(), signal.SIGKILL)
        if "# SIGSTOP-SELF" in code:
            os.kill(os.getpid(), signal.SIGSTOP)
        if "# WAIT-FOR-KILL" in code:
            pid_file = Path(os.environ["FAULT_PID_DIR"], self.context.path.replace("/", "_") + ".pid")
            pid_file.write_text(str(os.getpid()))
            time.sleep(600)
        if "# SLEEP" in code:
            time.sleep(600)
        if "# UNPICKLABLE-FACT" in code:
            self.facts["callback"] = lambda: None
        if "# UNPICKLABLE-DATA" in code:
            self.report(node, callback=lambda: None)
        if "# SYSEXIT" in code:
            raise SystemExit(0)
        if "# RECURSE" in code:
            def down(n):
                return down(n + 1)
            down(0)
'''

COSTLY = "import asyncio\n\n\ndef run(coro):\n    return asyncio.run(coro)\n"
GOOD = [f"src/good{i}.py" for i in range(4)]
GUARD = 300  # seconds: only a hang gets anywhere near this


def _project(root: Path, faults: dict[str, str], timeout: float | str = 600) -> Path:
    (root / "fault.py").write_text(PLUGIN)
    (root / "pyproject.toml").write_text(
        f'[tool.advisor]\nplugins = ["./fault.py"]\nexclude = ["fault.py"]\ntimeout = {timeout}\n')
    (root / "src").mkdir()
    for name in GOOD:
        (root / name).write_text(COSTLY)
    for name, marker in faults.items():
        (root / name).write_text(f"# {marker}\n" + COSTLY)
    (root / "pids").mkdir()
    return root


def _command(jobs: int) -> list[str]:
    return [sys.executable, "-m", "advisor", "scan", "--no-measure", "--no-cache", "--format", "json", "--jobs", str(jobs)]


def _env(root: Path) -> dict[str, str]:
    return dict(os.environ, FAULT_PID_DIR=str(root / "pids"))


def _scan(root: Path, jobs: int = 2) -> tuple[subprocess.CompletedProcess[str], dict]:
    result = subprocess.run(_command(jobs), cwd=root, env=_env(root), capture_output=True, text=True, timeout=GUARD)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def _check(result: subprocess.CompletedProcess[str], report: dict, errors: dict[str, tuple[str, str]],
           flagged: list[str]) -> None:
    """Exit 2, no traceback, exactly ``errors`` (path -> kind, message part),
    and lazy-imports findings on exactly ``flagged``."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    got = {e["path"]: e for e in report["errors"]}
    assert len(got) == len(report["errors"]) and sorted(got) == sorted(errors), report["errors"]
    for path, (kind, part) in errors.items():
        assert got[path]["kind"] == kind and part in got[path]["message"], got[path]
    assert sorted(f["path"] for f in report["findings"] if f["rule"] == "lazy-imports") == sorted(flagged)


@pytest.mark.parametrize("jobs", [1, 2])
def test_worker_killing_itself_is_reported_and_replaced(tmp_path: Path, jobs: int):
    # With one job, every file after the first is analysed by the replacement worker.
    root = _project(tmp_path, {"src/a_killed.py": "SIGKILL-SELF", "src/z_killed.py": "SIGKILL-SELF"})
    result, report = _scan(root, jobs)
    died = ("crash", "died (signal 9 (SIGKILL))")
    _check(result, report, {"src/a_killed.py": died, "src/z_killed.py": died}, GOOD)


def _wait_for_pid(proc: subprocess.Popen[str], pid_file: Path) -> int:
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        if pid_file.is_file() and pid_file.read_text():
            return int(pid_file.read_text())
        if proc.poll() is not None:
            pytest.fail(f"the scan ended before the worker reached the file: {proc.communicate()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the worker never reached the file")


@pytest.mark.parametrize("jobs", [1, 2])
def test_worker_killed_from_outside_mid_file(tmp_path: Path, jobs: int):
    root = _project(tmp_path, {"src/busy.py": "WAIT-FOR-KILL"})
    proc = subprocess.Popen(_command(jobs), cwd=root, env=_env(root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        pid = _wait_for_pid(proc, root / "pids" / "src_busy.py.pid")
        assert pid != proc.pid  # a worker, not the scan itself
        os.kill(pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=GUARD)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    _check(result, json.loads(stdout), {"src/busy.py": ("crash", "SIGKILL")}, GOOD)


def test_stopped_worker_is_ended_by_the_time_limit(tmp_path: Path):
    # SIGSTOP freezes the worker without it dying: only the time limit can end it.
    root = _project(tmp_path, {"src/frozen.py": "SIGSTOP-SELF"}, timeout=2)
    result, report = _scan(root)
    _check(result, report, {"src/frozen.py": ("timeout", "longer than 2 s")}, GOOD)


@pytest.mark.parametrize("timeout", ["1", "2.5"])
def test_time_limit_comes_from_the_config(tmp_path: Path, timeout: str):
    root = _project(tmp_path, {"src/slow.py": "SLEEP"}, timeout=timeout)
    result, report = _scan(root)
    message = f"longer than {float(timeout):g} s and was stopped (raise `timeout` in [tool.advisor])"
    _check(result, report, {"src/slow.py": ("timeout", message)}, GOOD)


def test_time_limit_of_the_wrong_type_is_a_config_error(tmp_path: Path):
    root = _project(tmp_path, {}, timeout='"ten"')
    result = subprocess.run(_command(2), cwd=root, capture_output=True, text=True, timeout=GUARD)
    assert result.returncode == 2
    assert "timeout has the wrong type" in result.stderr and "Traceback" not in result.stderr


def test_unpicklable_rule_results_lose_only_that_rule(tmp_path: Path):
    faults = {"src/fact.py": "UNPICKLABLE-FACT", "src/data.py": "UNPICKLABLE-DATA"}
    root = _project(tmp_path, faults)
    result, report = _scan(root)
    broken = ("rule", "rule fault crashed: its results cannot be pickled")
    # lazy-imports still reports on both files: only the fault rule's results are dropped.
    _check(result, report, {"src/fact.py": broken, "src/data.py": broken}, GOOD + list(faults))
    assert all(e["rule"] == "fault" for e in report["errors"])


def test_rule_calling_sys_exit_does_not_end_the_worker(tmp_path: Path):
    root = _project(tmp_path, {"src/exits.py": "SYSEXIT"})
    result, report = _scan(root, jobs=1)
    _check(result, report, {"src/exits.py": ("crash", "SystemExit")}, GOOD)


def test_rule_recursing_forever_is_reported_and_the_scan_goes_on(tmp_path: Path):
    root = _project(tmp_path, {"src/recurses.py": "RECURSE"})
    result, report = _scan(root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [e["path"] for e in report["errors"]] == ["src/recurses.py"]
    assert {f["path"] for f in report["findings"]} >= set(GOOD)


def test_rule_recursing_forever_is_blamed_on_the_rule(tmp_path: Path):
    root = _project(tmp_path, {"src/recurses.py": "RECURSE"})
    result, report = _scan(root)
    _check(result, report, {"src/recurses.py": ("rule", "RecursionError")}, GOOD + ["src/recurses.py"])


@pytest.mark.parametrize("timeout", ["0", "-1"])
def test_time_limit_must_be_positive(tmp_path: Path, timeout: str):
    root = _project(tmp_path, {}, timeout=timeout)
    result = subprocess.run(_command(2), cwd=root, capture_output=True, text=True, timeout=GUARD)
    assert result.returncode == 2 and "timeout" in result.stderr and not result.stdout.strip()
