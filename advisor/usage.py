"""Where each module-level name is used: at import time, inside function
bodies, or only in annotations (and whether something reads those
annotations at run time).

A mixin of libcst visitor methods, so it runs inside the one batched walk
(the lazy-imports rule) or as a plain visitor (its codemod). No scope
metadata: it over-approximates uses (a local that shadows an import counts
as a use), which can only make the rule quieter, never wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.rules.support.imports import ImportTarget, dotted_name, targets_of
from advisor.rule import PER_FILE_CACHES

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

#: Decorators that never read their function's annotations.
PASSIVE_DECORATORS = frozenset({
    "staticmethod", "classmethod", "property", "abstractmethod", "abc.abstractmethod",
    "overload", "typing.overload", "override", "typing.override", "typing_extensions.override",
    "cached_property", "functools.cached_property", "cache", "functools.cache",
    "lru_cache", "functools.lru_cache", "contextmanager", "contextlib.contextmanager",
    "asynccontextmanager", "contextlib.asynccontextmanager", "wraps", "functools.wraps",
    "final", "typing.final",
})
#: Base classes whose subclasses' annotations nothing reads at run time.
PASSIVE_BASES = frozenset({
    "object", "Protocol", "typing.Protocol", "typing_extensions.Protocol", "Generic",
    "typing.Generic", "ABC", "abc.ABC", "Exception", "BaseException", "ValueError",
    "TypeError", "RuntimeError", "KeyError",
})
#: Calls in a default value that mean a framework reads the signature (FastAPI, typer).
SIGNATURE_READERS = frozenset({
    "Depends", "Query", "Body", "Header", "Path", "File", "Form", "Cookie", "Security",
    "Option", "Argument", "Field", "Annotated",
})
#: Calls that read annotations or the module namespace dynamically.
ANNOTATION_READERS = frozenset({
    "get_type_hints", "typing.get_type_hints", "inspect.signature", "signature",
    "inspect.get_annotations", "get_annotations", "typing_extensions.get_type_hints",
})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Use:
    """One read of a module-level name."""

    #: "module" (runs at import), "function" (runs when called) or "annotation".
    where: str
    #: The outermost function whose body holds the use ("main", "Cli.run").
    function: str = ""
    #: For annotations: something may read it at run time (pydantic, FastAPI, ...).
    runtime: bool = False


#: (where, function, runtime) -> the one Use for it: a file has thousands of name
#: reads and a handful of distinct uses. Emptied after every file.
_USES: dict[tuple[Any, ...], Use] = {}
PER_FILE_CACHES.append(_USES)


@dataclass
class TopLevelImport:
    """An import statement directly in the module body (a deferral candidate)."""

    statement: Any  # the SimpleStatementLine
    node: Any  # the Import / ImportFrom small statement
    targets: list[ImportTarget]


@dataclass
class UsageState:
    """What the walk learned; read it after ``leave_Module``."""

    top_level_imports: list[TopLevelImport] = field(default_factory=list)
    uses: dict[str, list[Use]] = field(default_factory=dict)
    #: How many module-level bindings each name has (imports and assignments).
    bindings: dict[str, int] = field(default_factory=dict)
    dunder_all: set[str] = field(default_factory=set)
    #: globals()/eval/exec/module __getattr__: names may be read by string.
    dynamic: bool = False
    reads_annotations: bool = False
    future_annotations: bool = False
    #: Names of functions called inside a loop in this module.
    called_in_loop: set[str] = field(default_factory=set)
    #: Names referenced without being called (passed as callbacks, registered).
    value_refs: set[str] = field(default_factory=set)
    #: Function qualname -> its annotations are read at run time.
    function_runtime: dict[str, bool] = field(default_factory=dict)
    #: Every import not inside a function: what importing this module loads.
    eager_imports: list[ImportTarget] = field(default_factory=list)
    #: (alias-bound module name -> attributes read on it), for re-export checks.
    module_attribute_reads: dict[str, set[str]] = field(default_factory=dict)
    #: module -> names taken from it by ``from module import name`` anywhere here.
    imported_names: dict[str, set[str]] = field(default_factory=dict)
    #: Dotted strings given to mock.patch / monkeypatch.setattr.
    patch_targets: set[str] = field(default_factory=set)


class NameUsageMixin:
    """Visitor methods that fill ``self.usage`` (a UsageState)."""

    usage: UsageState
    #: The dotted name of the module being walked ("" if unknown).
    usage_module: str = ""
    usage_is_package: bool = False

    def init_usage(self, module: str, is_package: bool) -> None:
        self.usage = UsageState()
        self.usage_module = module
        self.usage_is_package = is_package
        self._body_depth = 0
        self._annotation_depth = 0
        self._skip_depth = 0
        self._loop_depth = 0
        self._outer_function = ""
        self._scopes: list[tuple[str, str, bool]] = []  # (kind, qualname, runtime annotations)
        self._called: set[int] = set()
        self._aliases: dict[str, str] = {}  # local name -> module it is bound to

    # -- module body: candidates -------------------------------------------------

    def visit_Module(self, node: "cst.Module") -> None:
        for statement in node.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and small.module is not None and dotted_name(small.module) == "__future__":
                    names = [] if isinstance(small.names, cst.ImportStar) else [dotted_name(a.name) for a in small.names]
                    self.usage.future_annotations |= "annotations" in names
                elif isinstance(small, (cst.Import, cst.ImportFrom)):
                    targets = targets_of(small, self.usage_module, self.usage_is_package)
                    if targets:
                        self.usage.top_level_imports.append(TopLevelImport(statement, small, targets))

    # -- imports anywhere ----------------------------------------------------------

    def _enter_import(self, node: Any) -> None:
        self._skip_depth += 1
        targets = targets_of(node, self.usage_module, self.usage_is_package)
        for target in targets:
            if target.names:
                self.usage.imported_names.setdefault(target.module, set()).update(target.names)
        if self._body_depth:
            return
        for target in targets:
            lazy = isinstance(node, (cst.LazyImport, cst.LazyImportFrom))
            if not lazy:
                self.usage.eager_imports.append(target)
            for bound in target.bound:
                self.usage.bindings[bound] = self.usage.bindings.get(bound, 0) + 1
            if not target.names:
                for bound in target.bound:
                    self._aliases[bound] = target.module if bound != target.top_level else target.top_level
            else:
                for name, bound in zip(target.names, target.bound):
                    self._aliases[bound] = f"{target.module}.{name}"

    def _leave_import(self, node: Any) -> None:
        self._skip_depth -= 1

    def visit_Import(self, node: "cst.Import") -> None:
        self._enter_import(node)

    def leave_Import(self, node: "cst.Import") -> None:
        self._leave_import(node)

    def visit_ImportFrom(self, node: "cst.ImportFrom") -> None:
        self._enter_import(node)

    def leave_ImportFrom(self, node: "cst.ImportFrom") -> None:
        self._leave_import(node)

    def visit_LazyImport(self, node: "cst.LazyImport") -> None:
        self._enter_import(node)

    def leave_LazyImport(self, node: "cst.LazyImport") -> None:
        self._leave_import(node)

    def visit_LazyImportFrom(self, node: "cst.LazyImportFrom") -> None:
        self._enter_import(node)

    def leave_LazyImportFrom(self, node: "cst.LazyImportFrom") -> None:
        self._leave_import(node)

    # -- scopes ----------------------------------------------------------------

    def visit_FunctionDef(self, node: "cst.FunctionDef") -> None:
        if self._body_depth:
            return
        qualname = ".".join([s[1] for s in self._scopes[-1:]] + [node.name.value])  # the parent qualname is already dotted
        runtime = self._function_reads_annotations(node)
        self._scopes.append(("function", qualname, runtime))
        self.usage.function_runtime[qualname] = runtime
        if not self._scopes[:-1] and node.name.value == "__getattr__":
            self.usage.dynamic = True  # PEP 562: names may be served by string

    def leave_FunctionDef(self, node: "cst.FunctionDef") -> None:
        if not self._body_depth:
            self._scopes.pop()

    def visit_FunctionDef_body(self, node: "cst.FunctionDef") -> None:
        if not self._body_depth:
            self._outer_function = self._scopes[-1][1]
        self._body_depth += 1

    def leave_FunctionDef_body(self, node: "cst.FunctionDef") -> None:
        self._body_depth -= 1

    def _enter_definition_name(self, node: Any) -> None:
        # The name of a def/class is a binding, not a read; a module-level one
        # rebinds any import of the same name.
        self._skip_depth += 1
        if not self._body_depth and len(self._scopes) == 1:
            name = node.name.value
            self.usage.bindings[name] = self.usage.bindings.get(name, 0) + 1

    def _leave_definition_name(self, node: Any) -> None:
        self._skip_depth -= 1

    visit_FunctionDef_name = visit_ClassDef_name = _enter_definition_name
    leave_FunctionDef_name = leave_ClassDef_name = _leave_definition_name

    def visit_ClassDef(self, node: "cst.ClassDef") -> None:
        if self._body_depth:
            return
        qualname = ".".join([s[1] for s in self._scopes[-1:]] + [node.name.value])  # the parent qualname is already dotted
        self._scopes.append(("class", qualname, self._class_reads_annotations(node)))

    def leave_ClassDef(self, node: "cst.ClassDef") -> None:
        if not self._body_depth:
            self._scopes.pop()

    def _in_class_body(self) -> bool:
        return not self._body_depth and bool(self._scopes) and self._scopes[-1][0] == "class"

    def _function_reads_annotations(self, node: "cst.FunctionDef") -> bool:
        for decorator in node.decorators:
            name = dotted_name(decorator.decorator)
            if name not in PASSIVE_DECORATORS and not name.endswith((".setter", ".getter", ".deleter")):
                return True
        for param in (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params):
            default = param.default
            if isinstance(default, cst.Call) and dotted_name(default.func).split(".")[-1] in SIGNATURE_READERS:
                return True
        return False

    def _class_reads_annotations(self, node: "cst.ClassDef") -> bool:
        if node.decorators or node.keywords:
            return True
        for base in node.bases:
            value = base.value
            if isinstance(value, cst.Subscript):
                value = value.value
            if dotted_name(value) not in PASSIVE_BASES:
                return True
        return False

    # -- annotations -------------------------------------------------------------

    def visit_Annotation(self, node: "cst.Annotation") -> None:
        self._annotation_depth += 1

    def leave_Annotation(self, node: "cst.Annotation") -> None:
        self._annotation_depth -= 1

    def visit_SimpleString(self, node: "cst.SimpleString") -> None:
        if self._annotation_depth and not self._body_depth and not self._skip_depth:
            # A string annotation: its names are annotation uses too.
            for identifier in _IDENTIFIER.findall(node.value[1:]):
                self._record(identifier)

    # -- names -------------------------------------------------------------------

    def visit_Name(self, node: "cst.Name") -> None:
        if self._skip_depth:
            return
        self._record(node.value)
        if id(node) not in self._called:
            self.usage.value_refs.add(node.value)

    def _record(self, name: str) -> None:
        if self._body_depth:
            key: tuple[Any, ...] = ("function", self._outer_function, False)
        elif self._annotation_depth and self._scopes:
            key = ("annotation", self._scopes[-1][1], self._scopes[-1][2])
        elif self._annotation_depth and self.usage.future_annotations:
            key = ("annotation", "", False)  # a module-level variable annotation, never evaluated
        else:
            key = ("module", "", False)
        use = _USES.get(key)
        if use is None:  # Use is frozen: one instance per kind of use serves every name
            use = _USES[key] = Use(*key)
        self.usage.uses.setdefault(name, []).append(use)

    def visit_Attribute(self, node: "cst.Attribute") -> None:
        if isinstance(node.value, cst.Name) and node.value.value in self._aliases:
            module = self._aliases[node.value.value]
            self.usage.module_attribute_reads.setdefault(module, set()).add(node.attr.value)

    def visit_Attribute_attr(self, node: "cst.Attribute") -> None:
        self._skip_depth += 1

    def leave_Attribute_attr(self, node: "cst.Attribute") -> None:
        self._skip_depth -= 1

    def visit_Arg_keyword(self, node: "cst.Arg") -> None:
        self._skip_depth += 1

    def leave_Arg_keyword(self, node: "cst.Arg") -> None:
        self._skip_depth -= 1

    def visit_Param_name(self, node: "cst.Param") -> None:
        self._skip_depth += 1

    def leave_Param_name(self, node: "cst.Param") -> None:
        self._skip_depth -= 1

    def visit_Global(self, node: "cst.Global") -> None:
        for item in node.names:
            self.usage.uses.setdefault(item.name.value, []).append(Use("module"))

    # -- assignments to __all__ -----------------------------------------------------

    def visit_Assign(self, node: "cst.Assign") -> None:
        if not self._body_depth and any(dotted_name(t.target) == "__all__" for t in node.targets):
            self._collect_all(node.value)

    def visit_AugAssign(self, node: "cst.AugAssign") -> None:
        if not self._body_depth and dotted_name(node.target) == "__all__":
            self._collect_all(node.value)

    def _collect_all(self, value: Any) -> None:
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            for element in value.elements:
                if isinstance(element.value, cst.SimpleString):
                    self.usage.dunder_all.add(element.value.evaluated_value)  # type: ignore[arg-type]
        else:
            self.usage.dynamic = True  # computed __all__: anything may be exported

    # -- calls and loops ----------------------------------------------------------------

    def visit_Call(self, node: "cst.Call") -> None:
        self._called.add(id(node.func))
        name = dotted_name(node.func)
        last = name.rsplit(".", 1)[-1]
        if name in ("globals", "vars", "locals", "eval", "exec", "__import__"):
            if name in ("eval", "exec") or not self._body_depth:
                self.usage.dynamic = True
        if name in ANNOTATION_READERS or last in ("get_type_hints", "get_annotations"):
            self.usage.reads_annotations = True
        if self._loop_depth and last:
            self.usage.called_in_loop.add(last)
        if last in ("patch", "setattr", "delattr") and node.args:
            self._collect_patch(name, node)
        elif last == "object" and name.endswith("patch.object") and len(node.args) >= 2:
            self._collect_patch_object(node)

    def _collect_patch(self, name: str, node: "cst.Call") -> None:
        first = node.args[0].value
        if isinstance(first, cst.SimpleString):
            value = first.evaluated_value
            if isinstance(value, str) and "." in value:
                self.usage.patch_targets.add(value)
        elif last_is_setattr(name) and len(node.args) >= 2:
            self._collect_patch_object(node)

    def _collect_patch_object(self, node: "cst.Call") -> None:
        owner, attr = dotted_name(node.args[0].value), node.args[1].value
        if owner and isinstance(attr, cst.SimpleString) and isinstance(attr.evaluated_value, str):
            head, _, rest = owner.partition(".")
            module = self._aliases.get(head)
            if module:
                dotted = f"{module}.{rest}" if rest else module
                self.usage.patch_targets.add(f"{dotted}.{attr.evaluated_value}")

    def _enter_loop(self, node: Any) -> None:
        self._loop_depth += 1

    def _leave_loop(self, node: Any) -> None:
        self._loop_depth -= 1

    visit_For = visit_While = visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _enter_loop
    leave_For = leave_While = leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _leave_loop


def last_is_setattr(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "setattr"
