"""Functions a profile shows are hot: the lazy-imports fix never moves an
import into one (an import statement in a function costs a dict lookup and
a name binding on every call; in a function called a million times that is
more than the startup time saved).

Hot means: called at least HOT_CALLS times (cProfile/pstats, which count
calls), or, for sampling profilers that do not count calls, at least
HOT_SELF_SHARE of the sampled time spent in the function's own body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HOT_CALLS = 1000
HOT_SELF_SHARE = 0.05


def hot_functions(profile: Path, config: Any = None) -> dict[str, frozenset[str]]:
    """Real file path -> names of its hot functions (qualified and leaf)."""
    from advisor.evidence.profile import load_evidence

    evidence = load_evidence([profile])
    found: dict[str, set[str]] = {}
    for loaded in evidence.profiles:
        total = loaded.total_s or 0.0
        for function in loaded.functions:
            if function.library or not function.path:
                continue
            hot = (function.calls is not None and function.calls >= HOT_CALLS) or (
                function.calls is None and total > 0 and function.self_s / total >= HOT_SELF_SHARE)
            if hot:
                key = str(Path(function.path).resolve())
                found.setdefault(key, set()).update({function.function, function.function.rsplit(".", 1)[-1]})
    return {path: frozenset(names) for path, names in found.items()}


def is_hot(qualname: str, hot: frozenset[str]) -> bool:
    """Profilers name methods inconsistently: match the full name or the leaf."""
    return qualname in hot or qualname.rsplit(".", 1)[-1] in hot
