"""One bad file or one broken rule never takes the scan down: a rule that
raises, a worker that dies, and a file that stalls each become one entry in
``errors`` while every other file is still scanned."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from conftest import run_advisor

PLUGIN = '''
import os
import time

from advisor.rule import Invalid, Rule, Valid


class Saboteur(Rule):
    """Misbehaves on purpose when a file asks it to.

    ## What it does
    Raises, kills its process or hangs on marker comments.
    ## Why it matters
    It tests isolation.
    ## Example
    `# RAISE`
    ## Use instead
    Nothing.
    ## Fix safety
    None.
    ## Known limits
    None.
    ## Options
    None.
    """

    id = "saboteur"
    VALID = [Valid("x = 1\\n", why=f"valid-{i}") for i in range(3)]
    INVALID = [Invalid("# REPORT\\n", why=f"invalid-{i}") for i in range(3)]

    def visit_Module(self, node):
        code = node.code
        if "# RAISE" in code:
            raise ValueError("boom")
        if "# DIE" in code:
            os._exit(3)
        if "# HANG" in code:
            time.sleep(60)
'''

COSTLY = "import asyncio\n\n\ndef run(coro):\n    return asyncio.run(coro)\n"


def test_rule_crash_worker_death_and_timeout_are_isolated(tmp_path: Path):
    (tmp_path / "saboteur.py").write_text(PLUGIN)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.advisor]
        plugins = ["./saboteur.py"]
        timeout = 3
        exclude = ["saboteur.py"]
    """))
    src = tmp_path / "src"
    src.mkdir()
    (src / "raises.py").write_text("# RAISE\n" + COSTLY)
    (src / "dies.py").write_text("# DIE\nx = 1\n")
    (src / "hangs.py").write_text("# HANG\nx = 1\n")
    for index in range(4):
        (src / f"good{index}.py").write_text(COSTLY)
    result = run_advisor("scan", "--no-cache", "--format", "json", "--jobs", "2", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    report = json.loads(result.stdout)
    errors = {e["path"]: e for e in report["errors"]}
    assert errors["src/raises.py"]["kind"] == "rule" and errors["src/raises.py"]["rule"] == "saboteur"
    assert "ValueError: boom" in errors["src/raises.py"]["message"]
    assert errors["src/dies.py"]["kind"] == "crash" and "exit code 3" in errors["src/dies.py"]["message"]
    assert errors["src/hangs.py"]["kind"] == "timeout"
    assert len(errors) == 3
    flagged = sorted(f["path"] for f in report["findings"])
    # lazy-imports still ran on the file whose other rule crashed, and on every good file.
    assert flagged == ["src/good0.py", "src/good1.py", "src/good2.py", "src/good3.py", "src/raises.py"]


def test_verbose_shows_the_rule_traceback(tmp_path: Path):
    (tmp_path / "saboteur.py").write_text(PLUGIN)
    (tmp_path / "pyproject.toml").write_text('[tool.advisor]\nplugins = ["./saboteur.py"]\nexclude = ["saboteur.py"]\n')
    (tmp_path / "raises.py").write_text("# RAISE\nx = 1\n")
    result = run_advisor("scan", "--no-cache", "--verbose", "raises.py", cwd=tmp_path)
    assert result.returncode == 2
    assert "rule saboteur crashed: ValueError: boom" in result.stdout
    assert "Traceback" in result.stdout and 'raise ValueError("boom")' in result.stdout
