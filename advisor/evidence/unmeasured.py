"""One notice for the imports whose cost could not be measured, counted by
reason, with what to do about it.

Why: an import that is not installed in the measuring interpreter, or that
fails when imported on its own (Django's ``ImproperlyConfigured`` outside a
configured project, a missing system library), used to be left out without
a word: its cost then came from the bundled table or was not shown, and a
user could not tell a cheap import from an unmeasured one. Measuring code
reports each failure here as (import, reason); this module words the one
line the user sees.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Mapping

#: The reason of an import whose top-level module the interpreter does not have.
NOT_INSTALLED = "not installed"
_EXCEPTION = re.compile(r"^((?:[A-Za-z_]\w*\.)*)([A-Za-z_]\w*)(?::\s|:$|$)")
#: Interpreters chosen for the project: a module missing there is missing from the project too.
_PROJECT_SOURCES = ("--python", "config", "VIRTUAL_ENV", "uv", "poetry", "hatch", "pdm")


def failure_reason(stderr: str, returncode: int) -> str:
    """The exception a failed import run ended with, by class name
    (``django.core.exceptions.ImproperlyConfigured: ...`` ->
    ``ImproperlyConfigured``), else its exit status."""
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if not line or line.startswith(("import time:", "@@advisor")):
            continue
        match = _EXCEPTION.match(line)
        if match and (match.group(2).endswith(("Error", "Exception", "Exit", "Interrupt")) or ":" in line):
            return match.group(2)
        break
    return f"exit status {returncode}"


def unmeasured_notice(reasons: Mapping[str, str], python: str, source: str) -> str:
    """One line for every import (key) that was not measured, by reason
    (value); "" when there are none."""
    if not reasons:
        return ""
    counts = Counter(reasons.values())
    parts = ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    total = len(reasons)
    text = (f"lazy-imports: {total} import{'s' if total != 1 else ''} could not be measured in {python} ({parts}); "
            "their cost comes from the bundled table or is not shown")
    if counts.get(NOT_INSTALLED) and source not in _PROJECT_SOURCES:
        text += "; run with --python <the project's interpreter> to measure the ones installed there"
    if any(reason != NOT_INSTALLED for reason in counts):
        text += ("; an import that fails when run alone (it needs settings or other setup first, "
                 "as Django's ImproperlyConfigured says) is not measured")
    return text


__all__ = ["NOT_INSTALLED", "failure_reason", "unmeasured_notice"]
