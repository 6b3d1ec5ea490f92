"""Functions that always run at an entry's startup, followed across the
project: an import deferred into one of them still loads at every start of
that entry, so the move saves nothing there.

Per entry, the walk starts from the code that entry runs whatever the
command line says: the import-time code of every project module it loads
(``AppConfig.ready()`` included), the ``if __name__ == "__main__":`` block
of a ``python -m`` entry's module, and a console script's function (click
or typer commands included: the command's body runs on every real
invocation; only ``--help`` and usage errors skip it). From there it follows
the calls ``always_facts`` recorded as unconditional:

- plain calls of the project's functions, in this module or another
  (through imports and one level of package re-exports);
- ``Cls(...)`` runs ``__init__``/``__new__``/``__post_init__`` (the first
  found along the class's bases), ``Cls(...).meth()`` and
  ``obj = Cls(...); obj.meth()`` run ``meth`` on a ``Cls``;
- ``self.meth()`` runs ``meth`` as found on the instance's class: a base
  class's ``run()`` calling ``self.main()`` reaches the subclass's ``main``
  when the instance is the subclass; ``super().meth()`` looks after the
  current class.

Nothing else: no guess at what an attribute or a parameter holds, at
callbacks, or at dynamic dispatch. The walk is bounded (``_MAX_DEPTH`` calls
deep, ``_MAX_STATES`` steps per entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from advisor.rules.lazy_imports.always_facts import MAIN, MODULE

_MAX_DEPTH = 16
_MAX_STATES = 20000
_CONSTRUCTORS = ("__new__", "__init__", "__post_init__")


@dataclass(frozen=True)
class AlwaysRuns:
    """Entry name -> {absolute function name: why it runs at every start}."""

    by_entry: Mapping[str, Mapping[str, str]]

    def entries_running(self, module: str, functions: Iterable[str]) -> dict[str, str]:
        """Entry name -> why, for each entry at whose every start one of
        ``functions`` (qualnames in ``module``) runs."""
        names = [f"{module}.{f}" if module else f for f in functions]
        found: dict[str, str] = {}
        for entry, always in self.by_entry.items():
            for name, short in zip(names, functions):
                if name in always:
                    found[entry] = f"{short}() runs at every start of {entry}: {always[name]}"
                    break
        return found


@dataclass(frozen=True)
class Seed:
    """Where an entry starts: a function (or module code) and the class of its ``self``."""

    function: str
    instance: str
    why: str


class _Index:
    """The project's functions, classes and unconditional calls, joined from every file's facts."""

    def __init__(self, facts: Mapping[str, Mapping[str, Any]]) -> None:
        self.functions: set[str] = set()
        self.classes: dict[str, list[str]] = {}
        self.calls: dict[str, list[list[str]]] = {}
        self.imports: dict[str, dict[str, str]] = {}
        self.ready: list[str] = []
        for module, data in facts.items():
            self.functions.update(f"{module}.{q}" for q in data.get("defs", ()) if isinstance(q, str))
            for name, bases in (data.get("classes") or {}).items():
                self.classes[f"{module}.{name}"] = [b for b in bases if isinstance(b, str)]
            for caller, calls in (data.get("calls") or {}).items():
                key = f"{module}:{caller}" if caller in (MODULE, MAIN) else f"{module}.{caller}"
                self.calls[key] = [c for c in calls if isinstance(c, list) and c and all(isinstance(p, str) for p in c)]
            self.imports[module] = {k: v for k, v in (data.get("imports") or {}).items() if isinstance(v, str)}
            self.ready.extend(f"{module}.{q}" for q in data.get("ready", ()) if isinstance(q, str))

    def resolve(self, target: str) -> str:
        """The project function or class ``target`` names, through package re-exports ("" when none)."""
        for _ in range(4):
            if target in self.functions or target in self.classes:
                return target
            parts = target.split(".")
            for end in range(len(parts) - 1, 0, -1):
                exported = self.imports.get(".".join(parts[:end]), {}).get(parts[end])
                if exported and exported != target:
                    target = ".".join([exported, *parts[end + 1:]])
                    break
            else:
                return ""
        return ""

    def mro(self, cls: str) -> list[str]:
        """The project classes along ``cls``'s bases, depth first, each once (close to Python's MRO)."""
        order: list[str] = []
        stack = [cls]
        while stack and len(order) < 64:
            current = stack.pop(0)
            resolved = self.resolve(current) if current not in self.classes else current
            if resolved in self.classes and resolved not in order:
                order.append(resolved)
                stack[:0] = self.classes[resolved]
        return order

    def method(self, cls: str, name: str, after: str = "") -> str:
        """The function ``cls().name`` runs ("" when no project class along the bases defines it)."""
        order = self.mro(cls)
        if after:
            order = order[order.index(after) + 1:] if after in order else []
        for klass in order:
            if f"{klass}.{name}" in self.functions:
                return f"{klass}.{name}"
        return ""


def always_runs(facts: Mapping[str, Mapping[str, Any]], seeds: Mapping[str, list[Seed]]) -> AlwaysRuns:
    """``facts``: module -> its ``always_facts``; ``seeds``: entry name -> where it starts."""
    index = _Index(facts)
    walked: dict[Seed, dict[str, str]] = {}  # most seeds (a module's import-time code) are shared by many entries
    by_entry: dict[str, dict[str, str]] = {}
    for entry, start in seeds.items():
        found = by_entry[entry] = {}
        for seed in start:
            if seed not in walked:
                walked[seed] = _walk(index, [seed])
            for function, why in walked[seed].items():
                found.setdefault(function, why)
    return AlwaysRuns(by_entry)


def entry_seeds(facts: Mapping[str, Mapping[str, Any]], loaded: Iterable[str], roots: Iterable[str],
                runs_main: bool, function: str) -> list[Seed]:
    """Where one entry starts: the import-time code of the project modules it
    ``loaded`` (their ``AppConfig.ready()`` too), the ``__main__`` block of its
    ``roots`` when ``runs_main``, and ``function`` ("pkg.cli.main") when it is a
    console script's."""
    seeds: list[Seed] = []
    for module in sorted(loaded):
        data = facts.get(module)
        if not isinstance(data, Mapping):
            continue
        seeds.append(Seed(f"{module}:{MODULE}", "", f"importing `{module}`"))
        for ready in data.get("ready", ()):
            seeds.append(Seed(f"{module}.{ready}", f"{module}.{ready.rsplit('.', 1)[0]}", "django.setup() calls"))
    if runs_main:
        seeds.extend(Seed(f"{root}:{MAIN}", "", f"the __main__ block of `{root}`") for root in roots)
    if function:
        seeds.append(Seed(function, "", "the console script's function"))
        seeds.extend(_app_seeds(facts, function))
    return seeds


def _app_seeds(facts: Mapping[str, Mapping[str, Any]], target: str) -> list[Seed]:
    """A console script that names a typer/click app object (``pkg.cli:app``):
    its ``@app.callback()`` runs on every invocation, and so does its command
    when it has only one (typer then runs it without a subcommand name)."""
    module, _, name = target.rpartition(".")
    data = facts.get(module) or {}
    app = (data.get("commands") or {}).get(name)
    if not isinstance(app, Mapping) or name in data.get("defs", ()):
        return []  # a click group is a function: its subcommands run only when named
    runs = [f for f in app.get("callback", ()) if isinstance(f, str)]
    commands = [f for f in app.get("command", ()) if isinstance(f, str)]
    runs += commands if len(commands) == 1 else []
    return [Seed(f"{module}.{f}", "", f"the console script's app `{name}` runs") for f in runs]


def _walk(index: _Index, seeds: list[Seed]) -> dict[str, str]:
    """Every function the seeds run, with the chain of calls that reaches it
    ("the console script's function cli() → LiteCli.__init__()")."""
    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    frontier: list[tuple[str, str, list[str]]] = []  # (function, class of self, the chain so far)
    for seed in seeds:
        chain = [seed.why] if ":" in seed.function else [f"{seed.why} {_short(index, seed.function)}"]
        if seed.function in index.functions:
            found.setdefault(seed.function, chain[0])
        frontier.append((seed.function, seed.instance, chain))
    steps = 0
    for _ in range(_MAX_DEPTH):
        following: list[tuple[str, str, list[str]]] = []
        for function, instance, chain in frontier:
            if (function, instance) in seen or steps > _MAX_STATES:
                continue
            seen.add((function, instance))
            steps += 1
            for callee, klass in _callees(index, function, instance):
                longer = [*chain, _short(index, callee)]
                found.setdefault(callee, " → ".join(longer if len(longer) <= 5 else [*longer[:2], "...", *longer[-2:]]))
                following.append((callee, klass, longer))
        frontier = following
    return found


def _callees(index: _Index, function: str, instance: str) -> list[tuple[str, str]]:
    """(function, class of its self) for each call ``function`` always makes."""
    owner = function.rpartition(".")[0] if function.rpartition(".")[0] in index.classes else ""
    instance = instance or owner
    found: list[tuple[str, str]] = []
    for call in index.calls.get(function, ()):
        kind = call[0]
        if kind == "f" and len(call) == 2:
            target = index.resolve(call[1])
            if target in index.classes:
                found.extend(_constructed(index, target))
            elif target:
                parent = target.rpartition(".")[0]
                found.append((target, parent if parent in index.classes else ""))
        elif kind == "self" and len(call) == 2 and instance:
            target = index.method(instance, call[1])
            found.extend([(target, instance)] if target else [])
        elif kind == "super" and len(call) == 2 and owner:
            target = index.method(instance, call[1], after=owner)
            found.extend([(target, instance)] if target else [])
        elif kind == "obj" and len(call) == 3:
            klass = index.resolve(call[1])
            if klass in index.classes:
                found.extend(_constructed(index, klass))
                target = index.method(klass, call[2])
                found.extend([(target, klass)] if target else [])
    return found


def _constructed(index: _Index, klass: str) -> list[tuple[str, str]]:
    return [(m, klass) for m in (index.method(klass, name) for name in _CONSTRUCTORS) if m]


def _short(index: _Index, function: str) -> str:
    """``pkg.cli.Tool.run`` -> ``Tool.run()``, ``pkg.cli.main`` -> ``main()``; module code by its module."""
    if ":" in function:
        module, _, part = function.partition(":")
        return f"the __main__ block of `{module}`" if part == MAIN else f"`{module}`"
    parent, _, name = function.rpartition(".")
    return f"{parent.rpartition('.')[2]}.{name}()" if parent in index.classes else f"{name}()"


__all__ = ["AlwaysRuns", "Seed", "always_runs", "entry_seeds"]
