"""Calls counted for the project's own functions: how many, how many
distinct argument tuples, and whether equal arguments always gave an equal
result. Arguments and results are fingerprinted (hashed) in memory and never
stored; only the counts leave the process.

Python 3.11 has no ``sys.monitoring`` and ``sys.setprofile`` belongs to
pyinstrument, so each plain function and method of a project module is
wrapped right after the module is imported (by an import-system loader
subclass). To keep the cost bounded, a wrapper watches its first ``PROBE``
calls and then stops, restoring the original function, unless the function
is a cache candidate: slow enough per call (``MIN_MEAN_S``) and with few
distinct arguments (``MAX_DISTINCT_SHARE``). Only functions watched from
their first call to the end are reported, so every count is complete.
Results are compared for the first ``RESULT_CHECKS`` repeats of each
argument tuple. An argument compared by identity (an object without
``__hash__`` of its own, such as most ``self``) counts by its id while it
lives, watched by a weak reference: a freed object's id is reused by the
next one, which then counts as another argument.
"""

from __future__ import annotations

import functools
import importlib.machinery
import itertools
import sys
import threading
import time
import weakref
from types import FunctionType, ModuleType
from typing import Any, Callable

from .sites import ProjectFiles

PROBE = 64
MIN_MEAN_S = 20e-6
MAX_DISTINCT_SHARE = 0.5
MAX_DISTINCT = 4096
#: Containers larger than this are not fingerprinted (the cost grows with them):
#: arguments are fingerprinted on every call, results only RESULT_CHECKS + 1 times per argument tuple.
MAX_ITEMS = 2048
MAX_RESULT_ITEMS = 100_000
#: Repeats per distinct argument tuple whose result is compared with the first one's.
RESULT_CHECKS = 16
_NOT_PLAIN = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async generator
_UNKNOWN = object()


def fingerprint(value: Any, depth: int = 0, limit: int = MAX_ITEMS, identity: bool = True) -> Any:
    """A hashable stand-in for ``value``, equal for equal values; _UNKNOWN when
    there is none (too big, too deep, or an object compared by identity when
    ``identity`` is off, as for results: equal values would look different)."""
    kind = type(value)
    if kind in (int, str, float, bool, bytes, type(None)):
        return (kind, value.__hash__())
    if kind is tuple and len(value) <= 64 and depth < 4:
        parts = tuple(fingerprint(v, depth + 1, limit, identity) for v in value)
        return _UNKNOWN if _UNKNOWN in parts else parts
    if kind in (list, set, frozenset, dict) and len(value) <= limit and depth < 4:
        items = value.items() if kind is dict else value
        if kind is dict:
            parts = tuple((fingerprint(k, depth + 1, limit, identity), fingerprint(v, depth + 1, limit, identity)) for k, v in items)
            flat = [p for pair in parts for p in pair]
        else:
            parts = tuple(fingerprint(v, depth + 1, limit, identity) for v in items)
            flat = list(parts)
        if _UNKNOWN in flat:
            return _UNKNOWN
        return (kind.__name__, frozenset(parts) if kind in (set, frozenset, dict) else parts)
    if getattr(kind, "__hash__", None) is object.__hash__:
        return _identity(value) if identity else _UNKNOWN
    try:
        return (kind, hash(value))
    except Exception:
        return _UNKNOWN


#: id() -> (weak reference to the live object holding that id, its generation).
_LIVE: dict[int, tuple[Any, int]] = {}
_GENERATIONS = itertools.count()


def _identity(value: Any) -> Any:
    """A token for an object compared by identity (most ``self``): its id plus a
    generation, so the next object to reuse a freed id counts as another one.
    _UNKNOWN for an object that cannot be weakly referenced (its death, and so
    the reuse of its id, could not be seen)."""
    key = id(value)
    entry = _LIVE.get(key)
    if entry is not None and entry[0]() is value:
        return ("id", key, entry[1])
    try:
        ref = weakref.ref(value, functools.partial(_forget, key))
    except TypeError:
        return _UNKNOWN
    generation = next(_GENERATIONS)
    _LIVE[key] = (ref, generation)
    return ("id", key, generation)


def _forget(key: int, dead: Any) -> None:
    entry = _LIVE.get(key)
    if entry is not None and entry[0] is dead:
        del _LIVE[key]


class CallStats:
    """What one wrapped function saw."""

    __slots__ = ("site", "calls", "seconds", "args", "results", "differs", "unknown", "returned", "off", "lock", "depth", "undo")

    def __init__(self, site: tuple[str, int, str]) -> None:
        self.site = site
        self.calls = 0
        self.seconds = 0.0
        self.args: set[int] = set()
        #: Argument fingerprint -> [the first result's fingerprint, repeats compared with it].
        self.results: dict[int, list[int]] = {}
        self.differs = False
        self.unknown = False
        #: Some call returned something other than None (a procedure is no cache candidate).
        self.returned = False
        self.off = False
        self.lock = threading.Lock()
        self.depth = 0
        self.undo: list[Callable[[], None]] = []

    def observe(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        key = fingerprint((args, tuple(sorted(kwargs.items()))) if kwargs else args)
        with self.lock:
            self.calls += 1
            outer = self.depth == 0
            self.depth += 1
        started = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            with self.lock:
                self.depth -= 1
                if outer:
                    self.seconds += elapsed
        self._remember(key, result)
        return result

    def _remember(self, key: Any, result: Any) -> None:
        if key is _UNKNOWN:
            self.stop()  # distinct arguments could not be counted: report nothing
            return
        token = hash(key)
        if result is not None:
            self.returned = True
        with self.lock:
            self.args.add(token)
            known = self.results.get(token)
        if known is None or (known[1] < RESULT_CHECKS and not self.differs):
            value = fingerprint(result, limit=MAX_RESULT_ITEMS, identity=False)
            if value is _UNKNOWN:
                self.unknown = True
            elif known is None:
                self.results[token] = [hash(value), 0]
            else:
                known[1] += 1
                self.differs = self.differs or known[0] != hash(value)
        if self.calls >= PROBE and (len(self.args) > MAX_DISTINCT_SHARE * self.calls or len(self.args) > MAX_DISTINCT
                                    or self.seconds < MIN_MEAN_S * self.calls):
            self.stop()

    def stop(self) -> None:
        """Stop watching: not a cache candidate, so its counts are never reported."""
        self.off = True
        self.results.clear()
        for undo in self.undo:
            undo()
        self.undo.clear()

    def row(self) -> dict[str, Any] | None:
        if self.off or self.calls < 2:
            return None
        path, line, name = self.site
        results = "differ" if self.differs else ("unknown" if self.unknown else ("equal" if self.returned else "none"))
        return {"path": path, "line": line, "function": name, "calls": self.calls,
                "distinct_args": len(self.args), "results": results, "seconds": round(self.seconds, 6)}


class CallCounter:
    """Wraps the functions of project modules as they are imported."""

    def __init__(self, files: ProjectFiles) -> None:
        self.files = files
        self.stats: list[CallStats] = []

    def install(self) -> None:
        counter = self

        class CountingLoader(importlib.machinery.SourceFileLoader):
            def exec_module(self, module: ModuleType) -> None:
                super().exec_module(module)
                counter.wrap_module(module)

        class CountingFinder:
            @classmethod
            def find_spec(cls, name: str, path: Any = None, target: Any = None) -> Any:
                spec = importlib.machinery.PathFinder.find_spec(name, path, target)
                loader = getattr(spec, "loader", None)
                if spec is not None and type(loader) is importlib.machinery.SourceFileLoader and counter.files.real(spec.origin or ""):
                    spec.loader = CountingLoader(loader.name, loader.path)
                return spec

        # Before the PathFinder, after the built-in and frozen importers.
        position = next((i for i, f in enumerate(sys.meta_path) if f is importlib.machinery.PathFinder), len(sys.meta_path))
        sys.meta_path.insert(position, CountingFinder)  # type: ignore[arg-type]

    def wrap_module(self, module: ModuleType) -> None:
        filename = getattr(module, "__file__", None) or ""
        for name, value in list(vars(module).items()):
            if isinstance(value, FunctionType) and self._defined_in(value, filename):
                self._wrap(module, name, value, lambda f: f)
            elif isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
                self._wrap_class(value, filename)

    def _wrap_class(self, cls: type, filename: str) -> None:
        for name, member in list(vars(cls).items()):
            if name.startswith("__") and name.endswith("__"):
                continue  # (hashing the arguments may call __hash__/__eq__ themselves)
            if isinstance(member, FunctionType) and self._defined_in(member, filename):
                self._wrap(cls, name, member, lambda f: f)
            elif isinstance(member, (staticmethod, classmethod)) and isinstance(member.__func__, FunctionType):
                if self._defined_in(member.__func__, filename):
                    self._wrap(cls, name, member.__func__, type(member))

    def _defined_in(self, fn: FunctionType, filename: str) -> bool:
        code = fn.__code__
        return not (code.co_flags & _NOT_PLAIN) and code.co_filename == filename

    def _wrap(self, owner: Any, name: str, fn: FunctionType, rewrap: Callable[[Any], Any]) -> None:
        code = fn.__code__
        path = self.files.real(code.co_filename)
        if path is None:
            return
        stats = CallStats((path, code.co_firstlineno, getattr(code, "co_qualname", fn.__qualname__)))

        @functools.wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if stats.off:
                return fn(*args, **kwargs)
            return stats.observe(fn, args, kwargs)

        original = vars(owner)[name]
        try:
            setattr(owner, name, rewrap(counted))
        except (AttributeError, TypeError):
            return  # a class that refuses new attributes is left as it is
        stats.undo.append(lambda: _restore(owner, name, original))
        self.stats.append(stats)

    def rows(self) -> list[dict[str, Any]]:
        return [row for row in (s.row() for s in self.stats) if row is not None]

    def run_script(self, path: str) -> None:
        """Run a script as ``__main__`` with its top-level functions and classes
        wrapped as each is defined: a call is inserted after each ``def`` and
        ``class`` statement of the module body (line numbers unchanged), since
        the script's own code calls them before any import hook could."""
        import ast
        import builtins

        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        module = ModuleType("__main__")
        module.__file__ = path
        module.__builtins__ = builtins  # type: ignore[attr-defined]
        filename = path

        def wrap_name(name: str) -> None:
            value = vars(module).get(name)
            if isinstance(value, FunctionType) and self._defined_in(value, filename):
                self._wrap(module, name, value, lambda f: f)
            elif isinstance(value, type) and getattr(value, "__module__", None) == "__main__":
                self._wrap_class(value, filename)

        module.__dict__["__advisor_wrap__"] = wrap_name
        body: list[ast.stmt] = []
        for statement in tree.body:
            body.append(statement)
            if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
                call = ast.Expr(ast.Call(ast.Name("__advisor_wrap__", ast.Load()), [ast.Constant(statement.name)], []))
                body.append(ast.copy_location(call, statement))
        tree.body = body
        code = compile(ast.fix_missing_locations(tree), path, "exec")
        sys.modules["__main__"] = module
        exec(code, module.__dict__)


def _restore(owner: Any, name: str, original: Any) -> None:
    try:
        setattr(owner, name, original)
    except (AttributeError, TypeError):
        pass
