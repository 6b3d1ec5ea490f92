"""The lazy-imports codemod's ``getattr`` strategy (PEP 562): defer an import
and keep its names attributes of the module.

Why: a name that another module imports from here, that ``__all__``
re-exports, or that a test patches by its dotted name (``mock.patch("pkg.mod.name")``)
must stay readable as ``pkg.mod.name``; moving the import into a function
removes it. Instead the import moves into a module-level ``__getattr__``
that runs it on first access and stores the value in ``globals()``::

    def __getattr__(name: str) -> object:
        if name in globals():  # already loaded (or patched)
            return globals()[name]
        if name == "urlopen":
            from urllib.request import urlopen as value
        else:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals()[name] = value
        return value

PEP 562 covers attribute access from outside only: this module's own
functions read globals directly. So each function that uses the name
starts with ``__getattr__("urlopen")``, which loads it once and leaves a
patched value alone; the rest of the body reads the global as before. The
import is also kept under ``if TYPE_CHECKING:`` so type checkers and
editors still see the name.

Refused: a module that already defines ``__getattr__`` (not one this
strategy wrote) or does ``from x import *`` (which may bind the same name
at run time).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from advisor._lazy import lazy_module
from advisor.rules.lazy_imports.cstutil import code_of, is_docstring, is_future_import, is_import_line
from advisor.rules.lazy_imports.module_edits import bound_name
from advisor.rules.lazy_imports.usage import GETATTR_MARKER
from advisor.rules.support.imports import dotted_name

if TYPE_CHECKING:
    import libcst as cst

    from advisor.rules.lazy_imports.codemod import Plan
else:
    cst = lazy_module("libcst")

#: The docstring of the ``__getattr__`` this strategy writes: how a later run
#: recognises it (and adds branches instead of refusing).
MARKER = GETATTR_MARKER


def refusal(module: Any) -> str:
    """Why the module cannot take this strategy ("" when it can)."""
    for statement in module.body:
        existing = _getattr_def(statement)
        if existing is not None and not _ours(existing):
            return "the module already defines its own __getattr__ (PEP 562): not merged into it"
        if isinstance(statement, cst.SimpleStatementLine) and any(
                isinstance(s, cst.ImportFrom) and isinstance(s.names, cst.ImportStar) for s in statement.body):
            return "the module does `from ... import *`, which may bind the same name at run time"
    return ""


def load_line(name: str) -> Any:
    """``__getattr__("name")``: the first line of a function that reads ``name``."""
    return cst.parse_statement(f'__getattr__("{name}")  # load the deferred import (PEP 562)\n')


def branches(plan: "Plan") -> list[tuple[str, list[str]]]:
    """(bound name, the lines that import it into ``value``) for one plan."""
    small = plan.source_line.body[plan.small]
    names = set(plan.finding.data.get("names", []))
    found = []
    if isinstance(small, cst.Import):
        aliases = [small.names[plan.alias]] if plan.alias is not None else list(small.names)
        for alias in aliases:
            name = dotted_name(alias.name)
            bound = bound_name(alias) if alias.asname else name.split(".")[0]
            if bound not in names:
                continue
            if alias.asname is None and "." in name:  # `import a.b` binds `a`
                found.append((bound, [f"import {name}", f"value = {bound}"]))
            else:
                found.append((bound, [f"import {name} as value"]))
        return found
    source = "." * len(small.relative) + (dotted_name(small.module) if small.module is not None else "")
    for alias in small.names:
        if bound_name(alias) in names:
            found.append((bound_name(alias), [f"from {source} import {dotted_name(alias.name)} as value"]))
    return found


def add_getattr(module: Any, plans: Sequence["Plan"]) -> Any:
    """The module with a ``__getattr__`` serving the plans' names: a new one
    after the leading imports, or new branches in the one a previous run wrote."""
    wanted = [b for plan in plans for b in branches(plan)]
    body = list(module.body)
    for index, statement in enumerate(body):
        existing = _getattr_def(statement)
        if existing is not None and _ours(existing):
            served = _served(existing)
            wanted = [b for b in wanted if b[0] not in served]
            body[index] = _definition([*_existing_branches(existing), *wanted], statement.leading_lines)
            return module.with_changes(body=body)
    position = _after_imports(body)
    definition = _definition(wanted, [cst.EmptyLine(), cst.EmptyLine()] if position else [])
    if position < len(body):  # two blank lines after a def, as formatters want
        following = body[position]
        leading = list(following.leading_lines)
        while leading and leading[0].comment is None:
            leading.pop(0)
        body[position] = following.with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *leading])
    body.insert(position, definition)
    return module.with_changes(body=body)


def _definition(found: Sequence[tuple[str, list[str]]], leading: Sequence[Any]) -> Any:
    lines = ["def __getattr__(name: str) -> object:", f'    """{MARKER}"""',
             "    if name in globals():  # already loaded (or patched)",
             "        return globals()[name]"]
    for index, (name, code) in enumerate(found):
        lines.append(f'    {"if" if index == 0 else "elif"} name == "{name}":')
        lines.extend(f"        {line}" for line in code)
    lines += ["    else:", '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
              "    globals()[name] = value", "    return value"]
    return cst.parse_statement("\n".join(lines) + "\n").with_changes(leading_lines=list(leading))


def _getattr_def(statement: Any) -> Any | None:
    if isinstance(statement, cst.FunctionDef) and statement.name.value == "__getattr__":
        return statement
    return None


def _ours(function: Any) -> bool:
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    return bool(body) and is_docstring(body[0]) and MARKER in code_of(body[0])


def _existing_branches(function: Any) -> list[tuple[str, list[str]]]:
    """The (name, import lines) of a ``__getattr__`` this strategy wrote."""
    found: list[tuple[str, list[str]]] = []
    for statement in function.body.body:
        branch = statement
        while isinstance(branch, cst.If):
            test = branch.test
            if isinstance(test, cst.Comparison) and isinstance(test.comparisons[0].comparator, cst.SimpleString):
                name = str(test.comparisons[0].comparator.evaluated_value)
                found.append((name, [code_of(line).strip() for line in branch.body.body]))
            branch = branch.orelse if isinstance(branch.orelse, cst.If) else None
    return found


def _served(function: Any) -> set[str]:
    return {name for name, _ in _existing_branches(function)}


def _after_imports(body: Sequence[Any]) -> int:
    """Just after the leading docstring, imports and ``if``/``try`` import guards."""
    position = 0
    for index, statement in enumerate(body):
        if is_import_line(statement) or is_future_import(statement) or (index == 0 and is_docstring(statement)):
            position = index + 1
        elif isinstance(statement, (cst.If, cst.Try)) and _only_imports(statement):
            position = index + 1
        else:
            break
    return position


def _only_imports(statement: Any) -> bool:
    """An ``if TYPE_CHECKING:`` / ``try: import x`` block holding only imports (and ``pass``)."""
    blocks = [statement.body]
    blocks += [h.body for h in getattr(statement, "handlers", ())]
    orelse = getattr(statement, "orelse", None)
    if orelse is not None:
        blocks.append(orelse.body)
    for block in blocks:
        for line in getattr(block, "body", ()):
            if not isinstance(line, cst.SimpleStatementLine):
                return False
            if not all(type(s).__name__ in ("Import", "ImportFrom", "Pass", "Assign") for s in line.body):
                return False
    return True


__all__ = ["MARKER", "add_getattr", "branches", "load_line", "refusal"]
