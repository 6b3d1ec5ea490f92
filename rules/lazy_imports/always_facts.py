"""What one file tells about the calls that always run: read in the worker
from the ``ast`` tree the engine already built (no libcst), stored with the
file's startup facts, and joined across the project by ``always_runs``.

A call is recorded when it runs whenever its block runs: not under ``if``,
``elif``/``else``, a loop body, an ``except`` handler or a ``match`` case,
nor in a lambda, a nested ``def``, the branches of ``a if c else b`` or the
right side of ``and``/``or``. A ``try`` body and its ``finally`` count (the
normal path), and so does a ``with`` body: the context manager's
``__enter__`` runs first and the body follows unless it raises, which is
not the program's normal start. The test of an ``if``/``while``, the
iterable of a ``for`` and the subject of a ``match`` run unconditionally.
An early ``return`` under an ``if`` (``--version``) does not make what
follows conditional: that is the path every real run takes.

Each call is kept as one of (targets resolved through the file's imports
and its own definitions to absolute dotted names; the project decides what
they name):

- ``["f", "pkg.mod.name"]``: ``name()``, ``mod.name()``, ``Cls()``, ``Cls.meth()``;
- ``["self", "meth"]``: ``self.meth()`` / ``cls.meth()`` inside a method;
- ``["super", "meth"]``: ``super().meth()`` inside a method;
- ``["obj", "pkg.mod.Cls", "meth"]``: ``Cls(...).meth()``, or ``obj.meth()``
  after ``obj = Cls(...)`` in the same function.

Plain data (lists and dicts): cached as JSON.
"""

from __future__ import annotations

import ast
import sys
from typing import Any, Iterator

from advisor.rules.support.imports import ast_dotted_name

#: The caller name of a module's import-time code, and of its ``if __name__ == "__main__":`` block.
MODULE, MAIN = "<module>", "<main>"
_STDLIB = frozenset(sys.stdlib_module_names)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRIES: tuple[type[ast.stmt], ...] = (ast.Try, *([ast.TryStar] if hasattr(ast, "TryStar") else []))


def always_facts(tree: ast.Module, module: str, is_package: bool) -> dict[str, Any]:
    """``{"imports", "classes", "defs", "calls", "ready", "commands"}`` for one file (see the
    module docstring); ``commands``: app name -> {"command" | "callback": functions}."""
    package = module if is_package else module.rpartition(".")[0]
    collector = _Collector(module, package, _imports(tree, package))
    collector.local = {n.name for n in tree.body if isinstance(n, _DEFS)}
    classes: dict[str, list[str]] = {}
    ready: list[str] = []
    commands: dict[str, dict[str, list[str]]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            collector.function(node.name, node, "")
            for owner, kind in _app_decorators(node):
                commands.setdefault(owner, {}).setdefault(kind, []).append(node.name)
        elif isinstance(node, ast.ClassDef):
            bases = [collector.resolve(ast_dotted_name(b)) for b in node.bases]
            classes[node.name] = [b for b in bases if b]
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    collector.function(f"{node.name}.{item.name}", item, node.name)
                    if item.name == "ready" and any(ast_dotted_name(b).endswith("AppConfig") for b in node.bases):
                        ready.append(f"{node.name}.{item.name}")
    collector.block(MODULE, [s for s in tree.body if not _is_main_guard(s)], {})
    for node in tree.body:
        if _is_main_guard(node):
            collector.block(MAIN, node.body, {})  # type: ignore[attr-defined]
    facts: dict[str, Any] = {"imports": collector.imports, "classes": classes, "defs": collector.defs,
                             "calls": {k: v for k, v in collector.calls.items() if v}}
    if ready:
        facts["ready"] = ready
    if commands:
        facts["commands"] = commands
    return facts


def _app_decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[tuple[str, str]]:
    """(app name, "command" | "callback") for ``@app.command()`` / ``@app.callback()``
    on a module-level function (a typer or click app held in a module-level name)."""
    for decorator in node.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.attr in ("command", "callback"):
            yield func.value.id, func.attr


def _imports(tree: ast.Module, package: str) -> dict[str, str]:
    """Module-level names bound by imports -> the absolute dotted name they stand for."""
    found: dict[str, str] = {}
    for node in tree.body:
        for inner in ([node] if not isinstance(node, (ast.Try, ast.If)) else [*node.body, *node.orelse]):
            if isinstance(inner, ast.Import):
                for alias in inner.names:
                    head = alias.name.split(".")[0]
                    found[alias.asname or head] = alias.name if alias.asname else head
            elif isinstance(inner, ast.ImportFrom):
                base = _absolute(package, inner.module or "", inner.level)
                for alias in inner.names:
                    if alias.name != "*" and base:
                        found[alias.asname or alias.name] = f"{base}.{alias.name}"
    return found


def _absolute(package: str, target: str, level: int) -> str:
    if not level:
        return target
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return ""
    base = parts[:len(parts) - level + 1]
    return ".".join([*base, target] if target else base)


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.comparators) != 1:
        return False
    sides = [node.test.left, node.test.comparators[0]]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


class _Collector:
    """Collects each function's (and module code's) unconditional calls."""

    def __init__(self, module: str, package: str, imports: dict[str, str]) -> None:
        self.module, self.package, self.imports = module, package, imports
        self.local: set[str] = set()
        self.defs: list[str] = []
        self.calls: dict[str, list[list[str]]] = {}

    def resolve(self, dotted: str) -> str:
        """The absolute dotted name ``dotted`` stands for in this module ("" when unknown)."""
        if not dotted:
            return ""
        head, _, rest = dotted.partition(".")
        if head in self.imports:
            return f"{self.imports[head]}.{rest}" if rest else self.imports[head]
        if head in self.local and self.module:
            return f"{self.module}.{dotted}"
        return ""  # a local variable, a parameter or a builtin: not followed

    def function(self, qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> None:
        self.defs.append(qualname)
        self.block(qualname, node.body, {}, owner)

    def block(self, caller: str, body: list[ast.stmt], bound: dict[str, str], owner: str = "") -> None:
        """Record the unconditional calls of ``body``; ``bound``: local name -> class it was built from."""
        found = self.calls.setdefault(caller, [])
        for statement in _unconditional(body):
            for call in _calls(statement):
                record = self._record(call, bound, owner)
                if record and record not in found:
                    found.append(record)
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and isinstance(statement.targets[0], ast.Name) and isinstance(statement.value, ast.Call):
                built = self.resolve(ast_dotted_name(statement.value.func))
                if built:
                    bound[statement.targets[0].id] = built
                else:
                    bound.pop(statement.targets[0].id, None)

    def _record(self, call: ast.Call, bound: dict[str, str], owner: str) -> list[str]:
        func = call.func
        if isinstance(func, ast.Attribute):
            value = func.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super" and owner:
                return ["super", func.attr]
            if isinstance(value, ast.Call):  # Cls(...).meth()
                built = self.resolve(ast_dotted_name(value.func))
                return ["obj", built, func.attr] if built else []
            if isinstance(value, ast.Name):
                if value.id in ("self", "cls") and owner:
                    return ["self", func.attr]
                if value.id in bound:
                    return ["obj", bound[value.id], func.attr]
        target = self.resolve(ast_dotted_name(func))
        return ["f", target] if target and target.partition(".")[0] not in _STDLIB else []


def _unconditional(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of ``body`` that run whenever it does, and the parts of
    compound statements that do (their tests and iterables, as ``ast.Expr``)."""
    for statement in body:
        if isinstance(statement, _DEFS):
            continue
        if isinstance(statement, (ast.If, ast.While)):
            yield ast.Expr(statement.test)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            yield ast.Expr(statement.iter)
        elif isinstance(statement, ast.Match):
            yield ast.Expr(statement.subject)
        elif isinstance(statement, _TRIES):
            yield from _unconditional([*getattr(statement, "body"), *getattr(statement, "finalbody")])
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                yield ast.Expr(item.context_expr)
            yield from _unconditional(statement.body)
        else:
            yield statement
            if isinstance(statement, (ast.Return, ast.Raise)):
                return  # nothing after it runs


_SKIPPED = frozenset({ast.Lambda, *_DEFS, ast.Constant, ast.Name})
_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp})
#: Fields that hold only operator and context singletons: never a call.
_NO_CALLS = frozenset({"ctx", "op", "ops", "type_comment"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _calls(statement: ast.stmt) -> Iterator[ast.Call]:
    """The calls a simple statement makes whenever it runs, in no particular order."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _SKIPPED:
            continue
        if kind is ast.IfExp:
            stack.append(node.test)  # type: ignore[attr-defined]
            continue
        if kind is ast.BoolOp:
            stack.append(node.values[0])  # type: ignore[attr-defined]
            continue
        if kind in _COMPREHENSIONS:
            stack.append(node.generators[0].iter)  # type: ignore[attr-defined]
            continue
        if kind is ast.Call:
            yield node  # type: ignore[misc]
        fields = _FIELDS.get(kind)
        if fields is None:
            fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _NO_CALLS)
        for name in fields:
            value = getattr(node, name)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)


__all__ = ["MAIN", "MODULE", "always_facts"]
