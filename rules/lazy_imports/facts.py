"""lazy-imports' per-file project facts from CPython's ``ast``: the first half
of the rule's one name-usage analysis (``reports.py`` extends this walker
with where each name is read and the rule's decisions).

Why ``ast``: the worker already has the tree (``analysis._python_parse``),
so a scan never parses a file with libcst for lazy-imports; the rule's
libcst walk and ``explain`` run this same analysis too. The facts:
what importing the module loads (``eager``), which names it takes from
which module (``imported_names``, ``"*"`` for a star import), which
attributes it reads on imported modules (``attribute_reads``), and the
dotted targets its tests patch (``patch_targets``).

Stdlib only, one recursive pass, no libcst.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any, Callable, Sequence

from advisor.rules.lazy_imports.usage import GETATTR_MARKER
from advisor.rules.support.imports import ast_dotted_name as _dotted, resolve_relative

#: Calls that make names readable by string when made at import time.
_DYNAMIC_AT_MODULE = frozenset({"globals", "vars", "locals", "__import__"})
#: Fields that never hold a node worth visiting (expression contexts, operators).
#: Also fields of identifiers and numbers: ``names`` and ``kwd_attrs`` are lists of str.
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "names", "kwd_attrs", "arg",
                             "attr", "id", "conversion", "level", "module", "rest", "is_async"})
#: Fields holding identifiers that are reads of a name too (a match capture, ``except ... as``).
_NAME_STRINGS = {ast.MatchAs: ("name",), ast.MatchStar: ("name",), ast.MatchMapping: ("rest",),
                 ast.MatchClass: ("kwd_attrs",), ast.ExceptHandler: ("name",), ast.Nonlocal: ("names",)}
_FIELDS: dict[type, tuple[str, ...]] = {}


class _Walker:
    """One pre-order pass in libcst's child order (source order for statements)."""

    #: Node type -> handler (set below the class; a subclass may extend it).
    handlers: dict[type, Callable[[Any, Any], None]]

    def __init__(self, module: str | None, is_package: bool, text: str | None) -> None:
        self.module, self.known, self.is_package = module or "", module is not None, is_package
        self.text = text
        self.text_lines: list[str] | None = None  # split on first need: patch calls are rare
        self.body_depth = 0  # inside a function body
        self.lambda_depth = 0  # inside a lambda body: kept out of the module reads
        self.scopes = 0  # open def/class outside function bodies
        self.annotation = False
        self.future = False
        self.dynamic = False
        self.own_getattr = False  # inside the PEP 562 __getattr__ lazy-imports' fix wrote
        self.eager: list[dict[str, Any]] = []
        self.imported: dict[str, set[str]] = {}
        self.reads: dict[str, set[str]] = {}
        self.patches: set[str] = set()
        self.aliases: dict[str, str] = {}
        self.bindings: dict[str, int] = {}
        #: Names passed to eval/exec as their globals, and names assigned a fresh dict / anything else:
        #: ``exec(code, ns)`` after ``ns = {...}`` reads that dict, not this module's namespace.
        self.namespaces: set[str] = set()
        self.fresh_dicts: set[str] = set()
        self.other_values: set[str] = set()

    # -- driving -------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        for statement in tree.body:
            if type(statement) is ast.ImportFrom and statement.module == "__future__":
                self.future |= any(alias.name == "annotations" for alias in statement.names)
        self.visit_all(tree.body)
        if self.namespaces - (self.fresh_dicts - self.other_values):
            self.dynamic = True  # a namespace that may be this module's (a parameter, globals() kept in a name)

    def visit(self, node: Any) -> None:
        handler = self.handlers.get(type(node))
        if handler is not None:
            handler(self, node)
        else:
            self.children(node)

    def visit_all(self, nodes: list[Any]) -> None:
        for node in nodes:
            self.visit(node)

    def children(self, node: Any) -> None:
        """Visit the child nodes; the hot loop, so the dispatch is inlined."""
        fields = _FIELDS.get(type(node))
        if fields is None:
            fields = _FIELDS[type(node)] = tuple(f for f in node._fields if f not in _SKIPPED_FIELDS)
        get = self.handlers.get
        for name in fields:
            value = getattr(node, name)
            if type(value) is list:
                for item in value:
                    handler = get(type(item))
                    if handler is None:
                        if item is not None:  # lists hold nodes (or None: dict unpacking)
                            self.children(item)
                    elif handler is not _leaf:
                        handler(self, item)
            else:
                handler = get(type(value))
                if handler is None:
                    if isinstance(value, ast.AST):
                        self.children(value)
                elif handler is not _leaf:
                    handler(self, value)

    # -- results -----------------------------------------------------------------------

    def facts(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "is_package": self.is_package,
            "eager": self.eager,
            "imported_names": {m: sorted(n) for m, n in self.imported.items()},
            "attribute_reads": {m: sorted(n) for m, n in self.reads.items()},
            "patch_targets": sorted(self.patches),
        }

    # -- imports -------------------------------------------------------------------------

    def _absolute(self, node: ast.ImportFrom) -> str:
        """targets_of's module for a from-import ("" when it gives no target)."""
        if node.names[0].name == "*":
            return ""
        absolute = resolve_relative(node.module or "", node.level, self.module, self.is_package)
        return "" if node.level and not self.module else absolute

    def import_(self, node: ast.Import) -> None:
        targets = [(alias.name, (), alias.asname or alias.name.split(".")[0]) for alias in node.names]
        self._bind(targets)
        for alias in node.names:
            self._dotted_read(alias.name)

    def import_from(self, node: ast.ImportFrom) -> None:
        module = self._absolute(node)
        if module:
            names = tuple(alias.name for alias in node.names)
            self.imported.setdefault(module, set()).update(names)
            self._bind([(module, names, None)], [alias.asname or alias.name for alias in node.names])
        elif node.names[0].name == "*" and not (node.level and not self.module):
            # `from m import *` takes every public name m binds: "*" stands for them all
            star = resolve_relative(node.module or "", node.level, self.module, self.is_package)
            if star:
                self.imported.setdefault(star, set()).add("*")
        if node.module:
            self._dotted_read(node.module)

    def _bind(self, targets: Sequence[tuple[str, tuple[str, ...], Any]], from_bound: list[str] | None = None) -> None:
        """Record an import made while the module is imported (not inside a function body)."""
        if self.body_depth:
            return
        for module, names, bound in targets:
            self.eager.append({"statement": f"from {module} import {', '.join(sorted(names))}" if names
                               else f"import {module}", "module": module, "names": list(names)})
            if from_bound is None:
                self.bindings[bound] = self.bindings.get(bound, 0) + 1
                top = module.split(".")[0]
                self.aliases[bound] = top if bound == top else module
            else:
                for name, bound_name in zip(names, from_bound):
                    self.bindings[bound_name] = self.bindings.get(bound_name, 0) + 1
                    self.aliases[bound_name] = f"{module}.{name}"

    def _dotted_read(self, dotted: str) -> None:
        """libcst spells ``a.b.c`` in an import as Attribute nodes: ``a.b`` is a read."""
        head, dot, rest = dotted.partition(".")
        if dot and head in self.aliases:
            self.reads.setdefault(self.aliases[head], set()).add(rest.partition(".")[0])

    # -- scopes ----------------------------------------------------------------------------

    def function(self, node: Any) -> None:
        if self.body_depth:
            self.visit_all(node.decorator_list)
            self.arguments(node.args)
            if node.returns is not None:
                self.visit(node.returns)
            self._body(node.body)
            return
        own = False
        if not self.scopes and node.name == "__getattr__":
            own = ast.get_docstring(node) == GETATTR_MARKER  # the one lazy-imports' fix writes: it serves
            self.dynamic |= not own  # only the names it imports; any other may serve names by string (PEP 562)
        self.scopes += 1
        if self.scopes == 1:
            self.bindings[node.name] = self.bindings.get(node.name, 0) + 1
        self.visit_all(node.decorator_list)
        self.visit_all(getattr(node, "type_params", []))  # Python 3.12+
        self.arguments(node.args)
        if node.returns is not None:
            self._annotation(node.returns)
        self.own_getattr = own  # its globals() reads and writes only the names it serves
        self._body(node.body)
        self.own_getattr = False
        self.scopes -= 1

    def _body(self, body: list[Any]) -> None:
        self.body_depth += 1
        self.visit_all(body)
        self.body_depth -= 1

    def arguments(self, args: ast.arguments) -> None:
        for arg in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self._annotation(arg.annotation)
        self.visit_all(args.defaults)
        for default in args.kw_defaults:
            if default is not None:
                self.visit(default)

    def lambda_(self, node: ast.Lambda) -> None:
        self.arguments(node.args)
        self.lambda_depth += 1
        self.visit(node.body)
        self.lambda_depth -= 1

    def class_(self, node: ast.ClassDef) -> None:
        if self.body_depth:
            self.children(node)
            return
        self.scopes += 1
        if self.scopes == 1:
            self.bindings[node.name] = self.bindings.get(node.name, 0) + 1
        # libcst's order: decorators before the body (an import in the body binds an alias)
        self.visit_all(node.decorator_list)
        self.visit_all(getattr(node, "type_params", []))
        self.visit_all(node.bases)
        self.visit_all(node.keywords)
        self.visit_all(node.body)
        self.scopes -= 1

    def _annotation(self, node: Any) -> None:
        outer, self.annotation = self.annotation, True
        self.visit(node)
        self.annotation = outer

    def ann_assign(self, node: ast.AnnAssign) -> None:
        self.visit(node.target)
        self._annotation(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    # -- names and reads ---------------------------------------------------------------------

    def name(self, node: ast.Name) -> None:
        """A read: ``reports.py`` records where it happens."""

    def attribute(self, node: ast.Attribute) -> None:
        value = node.value
        if type(value) is ast.Name and value.id in self.aliases:
            self.reads.setdefault(self.aliases[value.id], set()).add(node.attr)
        self.visit(value)

    def global_(self, node: ast.Global) -> None:
        """``global x`` in a function: ``reports.py`` counts it as a module-level use."""

    def identifiers(self, node: Any) -> None:
        """Identifiers ast keeps as strings (``except E as x``, match captures)."""
        self.children(node)

    def assign(self, node: Any) -> None:
        """A computed ``__all__`` outside functions: anything may be exported."""
        targets = node.targets if type(node) is ast.Assign else [node.target]
        if not self.body_depth and any(type(t) is ast.Name and t.id == "__all__" for t in targets):
            if type(node.value) not in (ast.List, ast.Tuple, ast.Set):
                self.dynamic = True
        fresh = type(node) is ast.Assign and _fresh_dict(node.value)
        for target in targets:
            if type(target) is ast.Name:
                (self.fresh_dicts if fresh else self.other_values).add(target.id)
        self.children(node)

    # -- calls ---------------------------------------------------------------------------------

    def call(self, node: ast.Call) -> None:
        self.call_facts(node)
        self.children(node)

    def call_facts(self, node: ast.Call) -> str:
        """Dynamic access and patch targets; returns the called dotted name."""
        func = node.func
        if type(func) is ast.Name:
            called = func.id
            if called in ("eval", "exec"):
                self.dynamic |= self._own_namespace(node)
            elif called == "globals" or (called in _DYNAMIC_AT_MODULE and not self.body_depth):
                self.dynamic |= not (self.own_getattr and called == "globals")
        else:
            called = _dotted(func) if type(func) is ast.Attribute else ""
        last = called.rpartition(".")[2]
        if last in ("patch", "setattr", "delattr", "object") and (node.args or node.keywords):
            args = _call_args(node)
            if last != "object":
                self._patch(called, args)
            elif called.endswith("patch.object") and len(args) >= 2:
                self._patch_object(args)
        return called

    def _own_namespace(self, node: ast.Call) -> bool:
        """Whether an eval/exec may read this module's globals: none passed (it
        gets the caller's), or a value not known to be a fresh dict. A name is
        decided in ``run``, once every assignment has been seen."""
        given = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "globals"), None)
        if type(given) is ast.Name:
            self.namespaces.add(given.id)
            return False
        return given is None or not _fresh_dict(given)

    def _patch(self, called: str, args: list[Any]) -> None:
        first = args[0]
        if self._simple_string(first):
            if type(first.value) is str and "." in first.value:
                self.patches.add(first.value)
        elif called.rpartition(".")[2] == "setattr" and len(args) >= 2:
            self._patch_object(args)

    def _patch_object(self, args: list[Any]) -> None:
        owner, attr = _dotted(args[0]), args[1]
        if owner and self._simple_string(attr) and type(attr.value) is str:
            head, _, rest = owner.partition(".")
            module = self.aliases.get(head)
            if module:
                dotted = f"{module}.{rest}" if rest else module
                self.patches.add(f"{dotted}.{attr.value}")

    def _simple_string(self, node: Any) -> bool:
        """A single str/bytes literal (libcst's SimpleString), not ``"a" "b"``."""
        if type(node) is not ast.Constant or type(node.value) not in (str, bytes):
            return False
        if self.text is None:
            return True
        if self.text_lines is None:  # numbered as ast numbers them
            self.text_lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines = self.text_lines[node.lineno - 1:node.end_lineno]
        lines[-1] = lines[-1].encode()[:node.end_col_offset].decode(errors="replace")
        lines[0] = lines[0].encode()[node.col_offset:].decode(errors="replace")
        try:
            kinds = [t.type for t in tokenize.generate_tokens(io.StringIO("(" + "\n".join(lines) + ")").readline)]
        except (tokenize.TokenError, SyntaxError):
            return True
        return kinds.count(tokenize.STRING) == 1


def _fresh_dict(node: Any) -> bool:
    """``{...}`` or ``dict(...)``: a new namespace, not the module's."""
    return type(node) is ast.Dict or (type(node) is ast.Call and type(node.func) is ast.Name and node.func.id == "dict")


def _leaf(walker: _Walker, node: Any) -> None:
    """Marks node types with nothing to visit (their fields hold no nodes)."""


def _call_args(node: ast.Call) -> list[Any]:
    """The argument values in source order, as libcst's ``Call.args`` lists them."""
    if not node.keywords:
        return [a.value if type(a) is ast.Starred else a for a in node.args]
    ordered: list[Any] = sorted([*node.args, *node.keywords], key=lambda a: (a.lineno, a.col_offset))
    return [a.value if type(a) in (ast.Starred, ast.keyword) else a for a in ordered]


_HANDLERS: dict[type, Callable[[Any, Any], None]] = {
    ast.Import: _Walker.import_, ast.ImportFrom: _Walker.import_from,
    ast.FunctionDef: _Walker.function, ast.AsyncFunctionDef: _Walker.function,
    ast.Lambda: _Walker.lambda_, ast.ClassDef: _Walker.class_, ast.AnnAssign: _Walker.ann_assign,
    ast.Name: _Walker.name, ast.Attribute: _Walker.attribute, ast.Global: _Walker.global_,
    ast.Constant: _leaf, ast.Pass: _leaf, ast.Assign: _Walker.assign, ast.AugAssign: _Walker.assign,
    ast.Call: _Walker.call,
    **{kind: _Walker.identifiers for kind in _NAME_STRINGS},
}
_Walker.handlers = _HANDLERS
