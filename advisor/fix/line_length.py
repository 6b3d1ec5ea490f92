"""The project's formatter line length (``[tool.ruff]``, ``[tool.ruff.format]``,
``[tool.black]``): a codemod that moves code wraps it the way the project's
formatter would, so ``black --check`` / ``ruff format --check`` still pass."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: black's and ruff's default line length.
DEFAULT_LINE_LENGTH = 88


def project_line_length(root: Path) -> int:
    """``line-length`` of ``[tool.ruff]`` / ``[tool.ruff.format]`` / ``[tool.black]``
    in the project's pyproject.toml (the smallest set), else 88."""
    try:
        with (root / "pyproject.toml").open("rb") as handle:
            tool = tomllib.load(handle).get("tool", {})
    except (OSError, ValueError):
        return DEFAULT_LINE_LENGTH
    ruff = tool.get("ruff", {}) if isinstance(tool.get("ruff"), dict) else {}
    black = tool.get("black", {}) if isinstance(tool.get("black"), dict) else {}
    found = [t.get("line-length") for t in (ruff, ruff.get("format", {}), black) if isinstance(t, dict)]
    lengths = [n for n in found if isinstance(n, int) and not isinstance(n, bool) and n > 0]
    return min(lengths) if lengths else DEFAULT_LINE_LENGTH


__all__ = ["DEFAULT_LINE_LENGTH", "project_line_length"]
