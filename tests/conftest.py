"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"

# Caches live in the user's cache directory (advisor.cache_files): the test
# run gets its own, inherited by every advisor subprocess, so tests neither
# read the developer's caches nor leave entries for their temp projects behind.
if "ADVISOR_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _CACHE = tempfile.mkdtemp(prefix="advisor-test-cache-")
    os.environ["ADVISOR_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)


def run_advisor(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args], cwd=cwd or REPO, env=full_env,
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def advisor_cli():
    return run_advisor
