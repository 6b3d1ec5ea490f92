"""Where a deferred import would run: a static, conservative test.

An import moved into a function that always runs at startup (a console
script's entry function, a function called at module level, ``__init__`` of
a class instantiated at module level, ``AppConfig.ready()``, and what those
call unconditionally in the same module) still loads at every start: the
move saves nothing. One moved into code that runs per item or per request
(a property, a dunder Python calls per item, a request handler) trades
startup for the first call of each worker and a lookup on every call: the
finding is kept, but ``advisor fix`` leaves it alone.

Facts come from ``startup_facts._runs`` (per file, in the worker). This
module keeps what holds for every entry that loads the module (module-level
calls, ``AppConfig.ready()``); console scripts' functions, ``__main__``
blocks and calls across modules and methods are followed per entry by
``always_runs.py`` (``savings.project_always_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class Runs:
    """Per project module: functions that always run at startup, and why;
    functions that run per item or per request, and why."""

    always: Mapping[str, Mapping[str, str]]
    per_call: Mapping[str, Mapping[str, str]]

    def problem(self, module: str, functions: Iterable[str]) -> tuple[str, str]:
        """("always" | "per-call" | "", why) for deferring into ``functions``."""
        always, per_call = self.always.get(module, {}), self.per_call.get(module, {})
        for function in functions:
            if function in always:
                return "always", f"{function}() runs at every start ({always[function]}): deferring into it saves nothing"
        for function in functions:
            if function in per_call:
                return "per-call", f"{function}() is {per_call[function]}"
        return "", ""


def project_runs(facts: Mapping[str, Mapping[str, Any]], entry_functions: Mapping[str, Iterable[str]]) -> Runs:
    """``facts``: module -> its startup facts; ``entry_functions``: module ->
    functions console scripts call (``pkg.cli:main``)."""
    always: dict[str, dict[str, str]] = {}
    per_call: dict[str, dict[str, str]] = {}
    for module, data in facts.items():
        runs = data.get("runs") if isinstance(data, Mapping) else None
        if not isinstance(runs, Mapping):
            continue
        seeds = {q: "called while the module is imported" for q in runs.get("module_calls", []) if isinstance(q, str)}
        seeds.update({q: "AppConfig.ready() runs during django.setup()" for q in seeds if q.endswith(".ready")})
        seeds.update({f: "the console script's entry function" for f in entry_functions.get(module, ())})
        calls = runs.get("calls", {})
        always[module] = _closure(seeds, calls if isinstance(calls, Mapping) else {})
        found = runs.get("per_call", {})
        if isinstance(found, Mapping):
            per_call[module] = {str(k): str(v) for k, v in found.items()}
    return Runs(always, per_call)


def _closure(seeds: dict[str, str], calls: Mapping[str, Any]) -> dict[str, str]:
    """The seeds and what they call unconditionally, transitively."""
    found = dict(seeds)
    stack = list(seeds)
    while stack:
        current = stack.pop()
        for callee in calls.get(current, []) if isinstance(calls.get(current), list) else []:
            if isinstance(callee, str) and callee not in found:
                found[callee] = f"{current}() always calls it"
                stack.append(callee)
    return found


__all__ = ["Runs", "project_runs"]
