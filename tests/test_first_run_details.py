"""Small things a first run shows: progress on stderr whatever stdout is,
never a total of 0; ``fix`` takes ``--no-profile`` and uses the saved
profile otherwise; text and HTML say when results came from the cache and
how long the scan that computed them took.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from advisor.commands.common import Progress
from advisor.config import config_from_table
from advisor.engine.scan import scan
from conftest import run_advisor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_plain_lines_after_a_few_seconds_then_throttled() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress(enabled=True, stream=stream, clock=clock)
    progress("analysed 1/9 files")
    clock.now = 3.5
    progress("analysed 2/9 files")
    clock.now = 8.0
    progress("analysed 3/9 files")  # within 10 s of the last line: not repeated
    clock.now = 14.0
    progress("analysed 9/9 files")
    progress.clear()
    assert stream.getvalue() == "advisor: analysed 2/9 files\nadvisor: analysed 9/9 files\n"


def test_progress_on_a_terminal_rewrites_one_line_and_clears_it() -> None:
    clock, stream = Clock(), Terminal()
    progress = Progress(enabled=True, stream=stream, clock=clock)
    progress("early")
    clock.now = 1.0
    progress("analysed 1/2 files")
    progress("analysed 2/2 files")
    progress.clear()
    assert stream.getvalue() == "\r\033[Kanalysed 1/2 files\r\033[Kanalysed 2/2 files\r\033[K"
    quiet = Progress(enabled=False, stream=stream, clock=clock)
    quiet("nothing")
    assert stream.getvalue().endswith("\r\033[K")


def test_the_progress_total_is_the_number_of_files_analysed(tmp_path: Path) -> None:
    for i in range(4):
        (tmp_path / f"m{i}.py").write_text("import asyncio\n\n\ndef f():\n    return asyncio\n")
    messages: list[str] = []
    scan([tmp_path], config_from_table({"measure-imports": False}, root=tmp_path), jobs=1, use_cache=False,
         progress=messages.append)
    totals = {m for m in messages if m.startswith("analysed")}
    assert totals == {f"analysed {i}/4 files" for i in range(1, 5)}


PROJECT = {
    "pyproject.toml": '[project]\nname = "work"\n\n[tool.advisor]\nmeasure-imports = false\n',
    "work.py": "import asyncio\n\n\ndef tiny(x):\n    return asyncio.iscoroutine(x)\n",
}


def _project_with_saved_profile(root: Path) -> Path:
    root.mkdir()
    for name, text in PROJECT.items():
        (root / name).write_text(text)
    # A saved profile in the tree is read as JSON or text only (never a pstats
    # dump): a speedscope profile whose every sample is in tiny(), so it is hot.
    frame = {"name": "tiny", "file": str((root / "work.py").resolve()), "line": 4}
    profile = {"type": "sampled", "name": "run", "unit": "seconds", "startValue": 0, "endValue": 1.0,
               "samples": [[0]] * 10, "weights": [0.1] * 10}
    document = {"$schema": "https://www.speedscope.app/file-format-schema.json",
                "shared": {"frames": [frame]}, "profiles": [profile]}
    (root / ".advisor").mkdir()
    (root / ".advisor" / "profile.pyisession").write_text(json.dumps(document))
    return root


def test_fix_uses_the_saved_profile_and_no_profile_ignores_it(tmp_path: Path) -> None:
    project = _project_with_saved_profile(tmp_path / "p")
    kept = run_advisor("fix", ".", "--no-cache", cwd=project)
    assert "tiny() is hot in the profile" in kept.stdout, kept.stdout + kept.stderr
    assert "note: hot functions from .advisor/profile.pyisession" in kept.stdout
    assert (project / "work.py").read_text() == PROJECT["work.py"]
    fixed = run_advisor("fix", ".", "--no-cache", "--no-profile", cwd=project)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "def tiny(x):\n    import asyncio\n" in (project / "work.py").read_text()
    both = run_advisor("fix", ".", "--profile", "x.pstats", "--no-profile", cwd=project)
    assert both.returncode == 2 and "contradict" in both.stderr


def test_reports_say_when_results_came_from_the_cache(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    for name, text in PROJECT.items():
        (project / name).write_text(text)
    first = run_advisor("scan", ".", cwd=project)
    assert "from the cache" not in first.stdout and "from cache" not in first.stdout
    second = run_advisor("scan", ".", cwd=project)
    match = re.search(r"results from the cache \((\d+\.\d\d) s; the scan that computed them took (\d+\.\d\d) s\)",
                      second.stdout)
    assert match, second.stdout
    run_advisor("scan", ".", "-o", "report.html", cwd=project)
    html = (project / "report.html").read_text()
    assert "results from the cache; the scan that computed them took" in html
