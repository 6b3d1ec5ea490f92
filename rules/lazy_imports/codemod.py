"""The lazy-imports codemod: defer a module-level import, per finding, by one
of four strategies.

- inline: the import moves to the top of each function that uses it (after
  the docstring), keeping ``as`` names; a ``from x import a, b`` is split so
  each function imports only what it uses.
- type-checking: names used only in annotations move under
  ``if TYPE_CHECKING:`` (an existing block is reused).
- lazy: ``lazy import x`` / ``lazy from x import y`` (PEP 810, Python 3.15+).
- lazy-modules: the module is listed in ``__lazy_modules__`` (lazy on 3.15+,
  eager and harmless before), on request only.
- getattr: a module-level ``__getattr__`` imports the names on first access
  (PEP 562, ``module_getattr.py``), so they stay attributes of the module:
  the strategy of unsafe findings (a name other modules import from here,
  ``__all__`` re-exports or tests patch) below Python 3.15; from 3.15 they
  get ``lazy``, which keeps the attribute too.

Annotations that name a moved import are quoted when the file has no
``from __future__ import annotations``: quoting changes only those
annotations, where adding the future import would turn every annotation in
the file into a string and could break a runtime reader elsewhere in it.

The findings already passed every safety check (see rules/lazy_imports.py);
this module only refuses what it cannot rewrite faithfully, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

from advisor._lazy import lazy_module
from advisor.config import version_tuple
from advisor.fix import FixOptions, Outcome
from advisor.rules.lazy_imports.cstutil import code_of, insert_at_top, is_future_import, names_read, quoted
from advisor.evidence.hot import named_hot
from advisor.rules.lazy_imports.module_getattr import add_getattr, load_line
from advisor.rules.lazy_imports.module_getattr import refusal as getattr_refusal
from advisor.rules.lazy_imports.module_edits import add_type_checking_imports, moved_line, rewrite_import_lines, set_lazy_modules, with_comments
from advisor.rules.support.imports import targets_of

if TYPE_CHECKING:
    import libcst as cst

    from advisor.findings import Finding
else:
    cst = lazy_module("libcst")

STRATEGIES = ("inline", "type-checking", "lazy", "lazy-modules", "getattr")


@dataclass
class Plan:
    """How one finding will be fixed."""

    finding: "Finding"
    strategy: str
    line: int  # index of the SimpleStatementLine in module.body
    small: int  # index of the import in that line
    alias: int | None  # index of the alias for ``import a, b``; None: the whole statement
    #: The statement line as found (its comments and aliases are copied from here).
    source_line: Any = None
    #: function qualname -> bound names it reads (inline).
    inline: dict[str, list[str]] = field(default_factory=dict)
    #: bound names read by annotations outside function bodies.
    annotation_names: list[str] = field(default_factory=list)
    #: The codemod's options (line length for the moved imports' shape).
    options: FixOptions | None = None


def fix_source(text: str, findings: Sequence["Finding"], options: FixOptions) -> tuple[str, list[Outcome]]:
    """Apply ``findings`` to ``text``; repeat until the text is stable."""
    module = cst.parse_module(text)
    if module.code != text:  # libcst 1.x drops a form feed that starts a statement line
        why = "libcst cannot reproduce this file byte for byte (a form feed before a statement?): not rewritten"
        return text, [Outcome(f, False, "", why) for f in findings]
    outcomes: list[Outcome] = []
    for _ in range(3):
        changed, outcomes_now = _fix_module(module, findings, options)
        if not outcomes:
            outcomes = outcomes_now
        if changed.code == module.code:
            break
        module = changed
    return module.code, outcomes


def _fix_module(module: Any, findings: Sequence["Finding"], options: FixOptions) -> tuple[Any, list[Outcome]]:
    future = any(is_future_import(s) and "annotations" in code_of(s) for s in module.body)
    annotations = _annotations_outside_bodies(module)
    plans, outcomes = [], []
    for finding in findings:
        plan_or_reason = _plan(module, finding, options, annotations, future)
        if isinstance(plan_or_reason, Plan):
            plans.append(plan_or_reason)
        else:
            strategy, reason = plan_or_reason
            outcomes.append(Outcome(finding, False, strategy, reason))
    if not plans:
        return module, outcomes
    quote = set() if future else {n for p in plans if p.strategy != "lazy-modules" for n in p.annotation_names}
    module = module.visit(_body_transformer()(plans, quote))
    module = _rewrite_module_body(module, plans)
    for plan in plans:
        outcomes.append(Outcome(plan.finding, True, plan.strategy, _describe(plan, bool(quote))))
    return module, outcomes


# -- planning ----------------------------------------------------------------------


def choose_strategy(finding: "Finding", options: FixOptions) -> tuple[str, str]:
    """(strategy, "") or (strategy, reason it cannot be used)."""
    usage = finding.data.get("usage", "functions")
    target = version_tuple(options.target_version)
    forced = options.strategy
    unsafe = finding.data.get("unsafe", "")
    if forced is None:
        if unsafe:  # the names must stay module attributes
            return ("lazy", "") if target >= (3, 15) else ("getattr", "")
        if usage == "annotations":
            return "type-checking", ""
        return ("lazy", "") if target >= (3, 15) else ("inline", "")
    if unsafe and forced in ("inline", "type-checking"):
        return forced, f"{unsafe}: moving it would remove the module attribute (use --strategy getattr)"
    if forced == "type-checking" and usage != "annotations":
        where = ", ".join(f"{f}()" for f in finding.data.get("functions", []))
        return forced, f"its names are used at run time (in {where}), not only in annotations"
    if forced == "inline" and usage == "annotations":
        return forced, "only annotations use it: there is no function to move it into (use type-checking)"
    if forced == "lazy" and target < (3, 15):
        return forced, (f"`lazy import` needs Python 3.15 but target-version is {options.target_version} "
                        "(use --target-version 3.15 or --strategy lazy-modules)")
    return forced, ""


def _plan(module: Any, finding: "Finding", options: FixOptions, annotations: list[Any], future: bool) -> Plan | tuple[str, str]:
    strategy, reason = choose_strategy(finding, options)
    if reason:
        return strategy, reason
    location = _locate(module, finding, options)
    if location is None:
        return strategy, "the import is no longer at module level (already fixed?)"
    plan = Plan(finding, strategy, *location, source_line=module.body[location[0]], options=options)
    names = set(finding.data.get("names", []))
    if strategy == "getattr" and getattr_refusal(module):
        return strategy, getattr_refusal(module)
    if strategy in ("inline", "getattr"):
        hot = [f for f in finding.data.get("functions", []) if named_hot(f, options.hot_functions)]
        if hot:
            return strategy, f"{', '.join(hot)}() is hot in the profile: deferring there costs more than it saves"
        plan.inline, missing = _names_per_function(module, finding.data.get("functions", []), names,
                                                   finding.data.get("reads", {}))
        if missing:
            return strategy, f"cannot find {', '.join(sorted(missing))}() at the top level of the module or its classes"
    for annotation in annotations:
        used = names & names_read(annotation.annotation, strings=True)
        if not used:
            continue
        plan.annotation_names.extend(sorted(used - set(plan.annotation_names)))
        if not future and strategy != "lazy-modules" and quoted(annotation.annotation) is None:
            return strategy, f"cannot quote the annotation `{code_of(annotation.annotation).strip()}`"
    return plan


def _locate(module: Any, finding: "Finding", options: FixOptions) -> tuple[int, int, int | None] | None:
    statement, names = finding.data.get("statement"), list(finding.data.get("names", []))
    for i, line in enumerate(module.body):
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for j, small in enumerate(line.body):
            if not isinstance(small, (cst.Import, cst.ImportFrom)):
                continue
            for k, target in enumerate(targets_of(small, options.module, options.is_package)):
                if target.statement == statement and list(target.bound) == names:
                    return i, j, (k if isinstance(small, cst.Import) and len(small.names) > 1 else None)
    return None


def _names_per_function(module: Any, functions: list[str], names: set[str],
                        reads: dict[str, list[str]]) -> tuple[dict[str, list[str]], set[str]]:
    """Function qualname -> the bound names it reads (the rule's analysis says,
    in ``reads``, when the import binds several; else all of them); and the
    functions not found at the top level of the module or its classes."""
    wanted = set(functions)
    seen: set[str] = set()
    reads = dict(reads)

    def walk(statements: Sequence[Any], prefix: str) -> None:
        for statement in statements:
            if isinstance(statement, cst.FunctionDef):
                qualname = prefix + statement.name.value
                seen.add(qualname)
                if qualname in wanted and qualname not in reads and len(names) > 1:
                    # a finding made without "reads" (given by hand, or by an older advisor): read the body
                    reads[qualname] = sorted(names & names_read(statement.body))
            elif isinstance(statement, cst.ClassDef):
                walk(_block(statement.body), prefix + statement.name.value + ".")
            else:
                for child in _compound_blocks(statement):
                    walk(child, prefix)

    walk(module.body, "")
    return {f: sorted(names & set(reads.get(f, names))) or sorted(names) for f in functions}, wanted - seen


def _block(body: Any) -> Sequence[Any]:
    return body.body if isinstance(body, cst.IndentedBlock) else ()


def _compound_blocks(statement: Any) -> list[Sequence[Any]]:
    """Statement lists nested in if/try/with/for/while (not def/class)."""
    blocks = []
    for name in ("body", "orelse", "finalbody"):
        part = getattr(statement, name, None)
        if part is None or isinstance(statement, cst.SimpleStatementLine):
            continue
        if isinstance(part, cst.If):
            blocks.extend(_compound_blocks(part))
        elif hasattr(part, "body"):
            inner = part.body
            blocks.append(inner.body if isinstance(inner, cst.IndentedBlock) else _block(part))
    for handler in getattr(statement, "handlers", ()):
        blocks.append(_block(handler.body))
    return blocks


def _annotations_outside_bodies(module: Any) -> list[Any]:
    """Annotation nodes evaluated when the module runs (not inside a function body)."""
    found: list[Any] = []

    def walk(statements: Sequence[Any]) -> None:
        for statement in statements:
            if isinstance(statement, cst.FunctionDef):
                params = statement.params
                for param in (*params.posonly_params, *params.params, *params.kwonly_params,
                              *([params.star_arg] if isinstance(params.star_arg, cst.Param) else []),
                              *([params.star_kwarg] if params.star_kwarg else [])):
                    if param.annotation is not None:
                        found.append(param.annotation)
                if statement.returns is not None:
                    found.append(statement.returns)
            elif isinstance(statement, cst.ClassDef):
                walk(_block(statement.body))
            elif isinstance(statement, cst.SimpleStatementLine):
                found.extend(s.annotation for s in statement.body if isinstance(s, cst.AnnAssign))
            else:
                for child in _compound_blocks(statement):
                    walk(child)

    walk(module.body)
    return found


# -- rewriting -----------------------------------------------------------------------


def _body_transformer() -> type:
    """A transformer (built on first use: libcst loads lazily) that inserts
    inline imports into outermost functions and quotes annotations."""

    class BodyTransformer(cst.CSTTransformer):
        def __init__(self, plans: list[Plan], quote: set[str]) -> None:
            super().__init__()
            self.quote = quote
            self.inserts: dict[str, list[Any]] = {}
            for plan in plans:
                for function, names in plan.inline.items():
                    if plan.strategy == "getattr":
                        self.inserts.setdefault(function, []).extend(load_line(name) for name in names)
                    else:
                        self.inserts.setdefault(function, []).append(_inline_line(plan, function, names))
            self.scopes: list[str] = []
            self.body_depth = 0

        def visit_ClassDef(self, node: Any) -> None:
            self.scopes.append(node.name.value)

        def leave_ClassDef(self, original: Any, updated: Any) -> Any:
            self.scopes.pop()
            return updated

        def visit_FunctionDef(self, node: Any) -> None:
            self.scopes.append(node.name.value)

        def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
            qualname = ".".join(self.scopes)
            self.scopes.pop()
            if self.body_depth == 0 and qualname in self.inserts:
                return insert_at_top(updated, self.inserts[qualname])
            return updated

        def visit_FunctionDef_body(self, node: Any) -> None:
            self.body_depth += 1

        def leave_FunctionDef_body(self, node: Any) -> None:
            self.body_depth -= 1

        def leave_Annotation(self, original: Any, updated: Any) -> Any:
            if self.body_depth or not self.quote or not (self.quote & names_read(updated.annotation)):
                return updated
            return updated.with_changes(annotation=quoted(updated.annotation) or updated.annotation)

    return BodyTransformer


def _inline_line(plan: Plan, function: str, names: Sequence[str]) -> Any:
    small = plan.source_line.body[plan.small]
    depth = function.count(".") + 1  # a method sits two blocks deep
    return with_comments(moved_line(small, plan.alias, names, depth, plan.options), plan)


def _rewrite_module_body(module: Any, plans: list[Plan]) -> Any:
    """Remove or replace the module-level imports, then add TYPE_CHECKING
    imports and ``__lazy_modules__`` entries."""
    body, typing_lines, footer = rewrite_import_lines(module, plans)
    module = module.with_changes(body=body, footer=footer)
    if typing_lines:
        module = add_type_checking_imports(module, typing_lines)
    lazy_modules = [p.finding.data["module"] for p in plans if p.strategy == "lazy-modules"]
    if lazy_modules:
        module = set_lazy_modules(module, lazy_modules)
    served = [p for p in plans if p.strategy == "getattr"]
    if served:
        module = add_getattr(module, served)
    return module


def _describe(plan: Plan, quoted_any: bool) -> str:
    data = plan.finding.data
    statement = data.get("statement", "")
    if plan.strategy == "inline":
        where = ", ".join(f"{f}()" for f in plan.inline)
        extra = " (and under `if TYPE_CHECKING:` for annotations)" if plan.annotation_names else ""
        return f"moved `{statement}` into {where}{extra}"
    if plan.strategy == "type-checking":
        return f"moved `{statement}` under `if TYPE_CHECKING:`" + (" and quoted its annotations" if quoted_any else "")
    if plan.strategy == "lazy":
        return f"made `{statement}` a PEP 810 `lazy` import"
    if plan.strategy == "getattr":
        where = ", ".join(f"{f}()" for f in plan.inline)
        return f"moved `{statement}` into the module's __getattr__ (PEP 562)" + (f", called first in {where}" if where else "")
    return f"listed `{data.get('module')}` in `__lazy_modules__` (lazy on Python 3.15+)"


__all__ = ["STRATEGIES", "Plan", "choose_strategy", "fix_source"]
