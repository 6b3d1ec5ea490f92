"""What the startup model needs from one file, read in the worker from the
``ast`` tree the engine already built (stored with the rule's facts, so a
rescan of an unchanged file costs nothing):

- each import-time statement (``advisor.engine.module_imports`` decides
  what runs at import time), with the statement text the rule's findings
  carry, so a finding maps onto the model's statement;
- what makes the module an entry point (an ``if __name__ == "__main__":``
  block, Django settings);
- where its functions run (``advisor.rules.lazy_imports.runs``): called at
  module level, ``AppConfig.ready()``, properties and request handlers, and
  the same-module calls each function makes unconditionally.

Plain data only (lists and dicts): it is cached as JSON and pickled.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterator

_SETTINGS_ENV = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""")
#: Decorator names that make a function run once per request (web routes).
_ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "head", "options",
                               "websocket", "api_route", "view_config", "api_view", "action", "endpoint"})
#: Decorators after which a method runs on every attribute access.
_PROPERTY_DECORATORS = frozenset({"property", "cached_property", "setter", "getter", "deleter", "hybrid_property"})
#: Methods Python calls per item, per comparison or per attribute access.
_PER_CALL_DUNDERS = frozenset({"__iter__", "__next__", "__getitem__", "__setitem__", "__contains__", "__len__",
                               "__eq__", "__hash__", "__lt__", "__le__", "__gt__", "__ge__", "__getattr__",
                               "__getattribute__", "__setattr__", "__call__", "__repr__", "__str__", "__bool__"})
#: Methods of class-based views and middleware that run per request.
_HANDLER_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "dispatch",
                              "process_request", "process_response", "process_view", "get_queryset",
                              "get_context_data", "handle", "on_get", "on_post"})
_REQUEST_PARAMS = frozenset({"request", "req"})
#: Parameters of an ASGI (scope, receive, send) or WSGI (environ, start_response) callable.
_SERVER_SIGNATURES = (frozenset({"scope", "receive", "send"}), frozenset({"environ", "start_response"}))


def startup_facts(tree: ast.Module, module: str, is_package: bool, text: str) -> dict[str, Any]:
    """The file's contribution to the startup model (see the module docstring)."""
    package = module if is_package else module.rpartition(".")[0]
    facts: dict[str, Any] = {"statements": list(_statements(tree, package))}
    if _has_main_guard(tree):
        facts["main_guard"] = True
    if "INSTALLED_APPS" in text:
        from advisor.evidence.entries import settings_from_tree

        settings = settings_from_tree(tree)
        if settings is not None:
            facts["settings"] = list(settings)
    named = sorted(set(_SETTINGS_ENV.findall(text)))
    if named:
        facts["settings_env"] = named
    facts["runs"] = _runs(tree)
    from advisor.rules.lazy_imports.always_facts import always_facts

    facts["always"] = always_facts(tree, module, is_package)
    return facts


def _statements(tree: ast.Module, package: str) -> Iterator[list[Any]]:
    """[line, statement text, imported module, from-names] per import-time
    statement (one per alias of ``import a, b``), texts as ImportTarget.statement."""
    from advisor.evidence.startup_imports import import_time_nodes, resolve_from

    for node in import_time_nodes(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield [node.lineno, f"import {alias.name}", alias.name, []]
            continue
        base = resolve_from(node.module or "", node.level, package)
        names = [a.name for a in node.names if a.name != "*"]
        if base is None or (node.level and not package and not node.module):
            continue
        if base == "__future__":
            continue
        text = f"from {base} import {', '.join(sorted(names))}" if names else f"from {base} import *"
        yield [node.lineno, text, base, names]


def _has_main_guard(tree: ast.Module) -> bool:
    return any(isinstance(node, ast.If) and _is_main_test(node.test) for node in tree.body)


def _is_main_test(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    return (any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
            and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides))


# -- where functions run -------------------------------------------------------------

def _runs(tree: ast.Module) -> dict[str, Any]:
    """``module_calls``: qualnames run while the module is imported (functions
    called at module level, ``__init__`` of classes built there, ``AppConfig.ready``);
    ``calls``: qualname -> same-module qualnames it calls unconditionally;
    ``per_call``: qualname -> why it runs per item or per request."""
    defs = _module_defs(tree)
    module_calls: set[str] = set()
    for node in _import_time_statements(tree.body):
        for name in _called_names(node):
            module_calls.update(_run_by_call(name, defs))
    calls: dict[str, list[str]] = {}
    per_call: dict[str, str] = {}
    for qualname, function, in_class, app_config in _functions(tree):
        if app_config and function.name == "ready":
            module_calls.add(qualname)
        direct = sorted({q for statement in function.body for name in _unconditional_names(statement)
                         for q in _run_by_call(name, defs)} - {qualname})
        if direct:
            calls[qualname] = direct
        reason = _per_call_reason(function, in_class)
        if reason:
            per_call[qualname] = reason
    return {"module_calls": sorted(module_calls), "calls": calls, "per_call": per_call}


def _module_defs(tree: ast.Module) -> dict[str, str]:
    """Module-level name -> "function" or "class"."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = "function"
        elif isinstance(node, ast.ClassDef):
            found[node.name] = "class"
    return found


def _run_by_call(name: str, defs: dict[str, str]) -> list[str]:
    """The qualnames a call of ``name`` runs: the function, or a class's constructors."""
    kind = defs.get(name)
    if kind == "function":
        return [name]
    if kind == "class":
        return [f"{name}.__init__", f"{name}.__new__", f"{name}.__post_init__"]
    return []


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time (function and class bodies left out;
    the ``if __name__ == "__main__":`` block too: it runs only for a ``python -m``
    entry, which ``always_runs`` follows per entry)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.If) and _is_main_test(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for block in ("body", "orelse", "finalbody"):
                yield from _import_time_statements(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                yield from _import_time_statements(handler.body)
            if isinstance(node, ast.If):
                yield node.test  # type: ignore[misc]
            continue
        yield node


def _called_names(node: ast.AST) -> Iterator[str]:
    """Names called anywhere in ``node`` (``f()`` gives "f"), lambdas and defs aside."""
    stack: list[ast.AST] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(current, ast.Call) and isinstance(current.func, ast.Name):
            yield current.func.id
        stack.extend(ast.iter_child_nodes(current))


def _unconditional_names(statement: ast.stmt) -> Iterator[str]:
    """Names called by a statement that runs whenever its block does: not
    under ``if``/loops/``except``, but ``try`` and ``with`` bodies count."""
    if isinstance(statement, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                              ast.ClassDef)):
        if isinstance(statement, (ast.If, ast.While)):
            yield from _called_names(statement.test)
        return
    if isinstance(statement, ast.Try):
        for inner in [*statement.body, *statement.finalbody]:
            yield from _unconditional_names(inner)
        return
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        for item in statement.items:
            yield from _called_names(item.context_expr)
        for inner in statement.body:
            yield from _unconditional_names(inner)
        return
    yield from _called_names(statement)


def _functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool, bool]]:
    """(qualname, node, is a method, its class is an AppConfig) for module-level
    functions and the methods of module-level classes (the rule's qualnames)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node, False, False
        elif isinstance(node, ast.ClassDef):
            app_config = any(_last_name(b).endswith("AppConfig") for b in node.bases)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{item.name}", item, True, app_config


def _per_call_reason(function: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> str:
    decorators = {_last_name(d.func if isinstance(d, ast.Call) else d) for d in function.decorator_list}
    if decorators & _PROPERTY_DECORATORS:
        return "a property: it runs on every attribute access"
    if decorators & _ROUTE_DECORATORS and any(isinstance(d, ast.Call) for d in function.decorator_list):
        return "a request handler (route decorator): it runs on every request"
    if method and function.name in _PER_CALL_DUNDERS:
        return f"{function.name} runs once per item, comparison or call"
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    first = params[1:2] if method else params[:1]
    if first and first[0] in _REQUEST_PARAMS:
        return "a request handler (its first parameter is the request): it runs on every request"
    if method and function.name in _HANDLER_METHODS and any(p in _REQUEST_PARAMS for p in params):
        return "a view or middleware method: it runs on every request"
    if any(signature <= set(params) for signature in _SERVER_SIGNATURES):
        return "an ASGI/WSGI callable: it runs on every request"
    if function.name.lstrip("_").endswith("request") or function.name.lstrip("_").startswith("request"):
        return "a function that makes or handles a request (by its name): it runs once per request"
    return ""


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


__all__ = ["startup_facts"]
