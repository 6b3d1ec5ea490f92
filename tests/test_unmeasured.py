"""Imports that could not be measured are counted, by reason, in one notice
(advisor/evidence/unmeasured.py); the reason of a failed measurement is kept
with its cache entry, so a warm scan says the same (advisor/evidence/importtime.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from advisor.evidence.importtime import ImportTimer
from advisor.evidence.unmeasured import NOT_INSTALLED, failure_reason, unmeasured_notice
from conftest import run_advisor

DJANGO = """\
Traceback (most recent call last):
  File "<string>", line 2, in <module>
  File "/env/lib/python3.11/site-packages/django/conf/__init__.py", line 72, in _setup
    raise ImproperlyConfigured(
django.core.exceptions.ImproperlyConfigured: Requested setting INSTALLED_APPS, but settings are not configured.
"""


@pytest.mark.parametrize(("stderr", "code", "reason"), [
    pytest.param(DJANGO, 1, "ImproperlyConfigured", id="dotted-exception-with-message"),
    pytest.param("Traceback:\nModuleNotFoundError: No module named 'yaml'\n", 1, "ModuleNotFoundError", id="builtin-exception"),
    pytest.param("Traceback:\nKeyboardInterrupt\n", 1, "KeyboardInterrupt", id="exception-without-message"),
    pytest.param("import time:       120 |        120 | site\nSegmentation fault\n", -11, "exit status -11", id="crash"),
    pytest.param("", 3, "exit status 3", id="silent-exit"),
])
def test_failure_reason_is_the_exception_class(stderr: str, code: int, reason: str) -> None:
    assert failure_reason(stderr, code) == reason


def test_one_notice_counts_every_import_by_reason() -> None:
    reasons = {f"import m{i}": "ImproperlyConfigured" for i in range(180)}
    reasons.update({f"import n{i}": NOT_INSTALLED for i in range(25)})
    notice = unmeasured_notice(reasons, "/usr/bin/python3", "advisor")
    assert notice.startswith("lazy-imports: 205 imports could not be measured in /usr/bin/python3 "
                             "(ImproperlyConfigured: 180, not installed: 25); their cost comes from the bundled "
                             "table or is not shown; run with --python <the project's interpreter>")
    assert "needs settings or other setup first" in notice
    # Measured in the project's own interpreter: --python is no advice; no failure, no setup hint.
    own = unmeasured_notice({"import n": NOT_INSTALLED}, "/p/.venv/bin/python", "--python")
    assert own == ("lazy-imports: 1 import could not be measured in /p/.venv/bin/python (not installed: 1); "
                   "their cost comes from the bundled table or is not shown")
    assert unmeasured_notice({}, "python", "advisor") == ""


def test_a_failed_measurement_keeps_its_reason_in_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "importtime.json"
    timer = ImportTimer(sys.executable, cwd=tmp_path, cache_file=cache)
    statements = [("from json import no_such_name", "v1"), ("import json", "v1")]
    timer.measure(statements)
    assert timer.failure("from json import no_such_name", "v1") == "ImportError"
    assert timer.failure("import json", "v1") is None and timer.closure("import json", "v1")
    assert timer.failure("import csv", "v1") is None  # never measured: not a failure

    warm = ImportTimer(sys.executable, cwd=tmp_path, cache_file=cache)
    runs: list[list[str]] = []
    warm._run = lambda argv: runs.append(argv)  # type: ignore[method-assign,assignment,return-value]
    warm.measure(statements)
    assert runs == []  # answered from the cache, failure included
    assert warm.failure("from json import no_such_name", "v1") == "ImportError"


def test_a_future_import_is_never_measured_and_breaks_no_derived_cost(tmp_path: Path) -> None:
    """``from __future__ import annotations`` is legal only first in a module:
    measured after other code it is a SyntaxError, which made every derived
    cost that reached it fail, and the finding vanish without a word."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "__init__.py").write_text("")
    (tmp_path / "proj" / "heavy.py").write_text("from __future__ import annotations\n\nimport asyncio\n")
    (tmp_path / "proj" / "cli.py").write_text("from __future__ import annotations\n\nfrom proj import heavy\n\n\n"
                                              "def run():\n    return heavy\n")
    done = run_advisor("scan", ".", "--format", "json", "--select", "lazy-imports", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert [(f["path"], f["impact"]["source"]) for f in report["findings"]] == [("proj/cli.py", "derived")], done.stderr
    assert not any("could not be measured" in n for n in report["summary"]["notices"])
