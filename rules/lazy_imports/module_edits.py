"""Module-level edits for the lazy-imports codemod: remove or replace the
deferred import statements (keeping the comments and blank lines around
them), add ``if TYPE_CHECKING:`` imports, and list ``__lazy_modules__``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from advisor._lazy import lazy_module
from advisor.rules.lazy_imports.cstutil import code_of, is_docstring, is_future_import, is_import_line
from advisor.rules.support.imports import dotted_name

if TYPE_CHECKING:
    import libcst as cst

    from advisor.rules.lazy_imports.codemod import Plan
else:
    cst = lazy_module("libcst")


# -- statement text --------------------------------------------------------------------


def statement_code(small: Any, alias: int | None, names: Sequence[str] | None = None, lazy: bool = False) -> str:
    """``import a as b`` / ``from .x import c, d as e`` for (part of) an import."""
    prefix = "lazy " if lazy else ""
    if isinstance(small, cst.Import):
        aliases = [small.names[alias]] if alias is not None else list(small.names)
        return prefix + "import " + ", ".join(alias_code(a) for a in aliases)
    aliases = [a for a in small.names if names is None or bound_name(a) in names] or list(small.names)
    source = "." * len(small.relative) + (dotted_name(small.module) if small.module is not None else "")
    return f"{prefix}from {source} import " + ", ".join(alias_code(a) for a in aliases)


def moved_line(small: Any, alias: int | None, names: Sequence[str] | None, depth: int, options: Any) -> Any:
    """The statement line for (part of) an import moved ``depth`` blocks deep,
    keeping a wrapped import wrapped (``import_shape``); the line length is
    the project formatter's, which the fix runner passes in ``options.extra``."""
    from advisor.fix.line_length import DEFAULT_LINE_LENGTH
    from advisor.rules.lazy_imports.import_shape import moved_import

    line_length = int(options.extra.get("line_length", DEFAULT_LINE_LENGTH)) if options is not None else DEFAULT_LINE_LENGTH
    shaped = moved_import(small, names, depth, line_length) if alias is None else None
    return shaped if shaped is not None else cst.parse_statement(statement_code(small, alias, names))


def alias_code(alias: Any) -> str:
    name = dotted_name(alias.name)
    return f"{name} as {alias.asname.name.value}" if alias.asname else name


def bound_name(alias: Any) -> str:
    return str(alias.asname.name.value) if alias.asname else dotted_name(alias.name)


def moves_whole_line(plan: "Plan") -> bool:
    return len(plan.source_line.body) == 1 and plan.alias is None


def with_comments(statement: Any, plan: "Plan") -> Any:
    """Carry the import's own comments along when its whole line moves: the
    trailing comment, and leading comment lines that name the module."""
    if not moves_whole_line(plan):
        return statement
    leading = [e for e in plan.source_line.leading_lines if travels(e, plan)]
    return statement.with_changes(leading_lines=leading, trailing_whitespace=plan.source_line.trailing_whitespace)


def travels(line: Any, plan: "Plan") -> bool:
    """A comment line above the import that talks about it (names the module)."""
    if line.comment is None:
        return False
    words = set(line.comment.value.replace(".", " ").replace("`", " ").replace(",", " ").split())
    module = plan.finding.data.get("module", "")
    return bool(words & ({module, module.split(".")[0]} | set(plan.finding.data.get("names", []))))


# -- removing / replacing the module-level statements ------------------------------------


def rewrite_import_lines(module: Any, plans: list["Plan"]) -> tuple[list[Any], list[Any], list[Any]]:
    """The new module body, the lines to put under ``if TYPE_CHECKING:``, and
    comment lines left over at the end of the module (the new footer)."""
    by_line: dict[int, list[Plan]] = {}
    for plan in plans:
        by_line.setdefault(plan.line, []).append(plan)
    body: list[Any] = []
    typing_lines: list[Any] = []
    pending: list[Any] = []  # leading lines of a removed statement, for the next one
    for index, statement in enumerate(module.body):
        if index in by_line:
            kept, extra = _rewrite_line(statement, by_line[index])
            for plan in by_line[index]:
                typing_lines.extend(_typing_line(plan))
            if kept is None:
                pending.extend(e for e in statement.leading_lines if not any(
                    moves_whole_line(p) and p.strategy in ("inline", "type-checking", "getattr") and travels(e, p) for p in by_line[index]))
                if not extra:
                    continue
                kept, extra = extra[0], extra[1:]
            new = [kept, *extra]
        else:
            new = [statement]
        if pending:
            new[0] = _prepend_leading(new[0], pending)
            pending = []
        if not body and index and not module.header:
            new[0] = _strip_blank_start(new[0])  # the first statement went: no blank first line
        body.extend(new)
    footer = list(module.footer)
    if pending and any(e.comment is not None for e in pending):
        footer[:0] = pending  # nothing follows: the comments stay as the module's last lines
    return body, typing_lines, footer


def _strip_blank_start(statement: Any) -> Any:
    leading = list(statement.leading_lines)
    while leading and leading[0].comment is None:
        leading.pop(0)
    return statement.with_changes(leading_lines=leading)


def _prepend_leading(statement: Any, pending: list[Any]) -> Any:
    has_comment = any(e.comment is not None for e in pending)
    existing = list(statement.leading_lines)
    if not has_comment and (existing and existing[0].comment is None or not any(e.comment is None for e in pending)):
        return statement
    if not has_comment:
        pending = pending[:1]
    return statement.with_changes(leading_lines=[*pending, *existing])


def _rewrite_line(line: Any, plans: list["Plan"]) -> tuple[Any | None, list[Any]]:
    """(the line without the deferred imports or None, new lines after it)."""
    smalls = list(line.body)
    extra: list[Any] = []
    removed: set[int] = set()
    for j in sorted({p.small for p in plans}, reverse=True):
        small = smalls[j]
        mine = [p for p in plans if p.small == j]
        if all(p.strategy == "lazy-modules" for p in mine):
            continue  # stays as it is, even one alias of `import a, b`: __lazy_modules__ makes it lazy
        aliases = {p.alias for p in mine}
        if None in aliases or len(aliases) == len(small.names):
            lazy = [p for p in mine if p.strategy == "lazy"]
            if any(p.strategy == "lazy-modules" for p in mine):
                continue  # stays as it is; __lazy_modules__ makes it lazy
            if lazy and len(lazy) == len(mine):
                smalls[j] = to_lazy(small)
            else:
                removed.add(j)
                extra.extend(cst.parse_statement(statement_code(small, p.alias, lazy=True)) for p in lazy)
            continue
        names = [a for k, a in enumerate(small.names) if k not in aliases]
        names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        smalls[j] = small.with_changes(names=names)
        extra.extend(cst.parse_statement(statement_code(small, p.alias, lazy=True)) for p in mine if p.strategy == "lazy")
    smalls = [s for j, s in enumerate(smalls) if j not in removed]
    if not smalls:
        return None, extra
    smalls[-1] = smalls[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return line.with_changes(body=smalls), extra


def to_lazy(small: Any) -> Any:
    """``import x`` -> ``lazy import x``, keeping every bit of formatting."""
    if isinstance(small, cst.Import):
        return cst.LazyImport(names=small.names, semicolon=small.semicolon,
                              whitespace_after_import=small.whitespace_after_import)
    return cst.LazyImportFrom(
        module=small.module, names=small.names, relative=small.relative, lpar=small.lpar, rpar=small.rpar,
        semicolon=small.semicolon, whitespace_after_from=small.whitespace_after_from,
        whitespace_before_import=small.whitespace_before_import, whitespace_after_import=small.whitespace_after_import,
    )


def _typing_line(plan: "Plan") -> list[Any]:
    small = plan.source_line.body[plan.small]
    if plan.strategy in ("type-checking", "getattr"):  # getattr: so type checkers still see the names
        return [with_comments(moved_line(small, plan.alias, None, 1, plan.options), plan).with_changes(leading_lines=())]
    if plan.strategy == "inline" and plan.annotation_names:
        return [moved_line(small, plan.alias, plan.annotation_names, 1, plan.options)]
    return []


# -- if TYPE_CHECKING: ------------------------------------------------------------------------


def _is_type_checking_test(test: Any) -> bool:
    return dotted_name(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING", "t.TYPE_CHECKING")


def add_type_checking_imports(module: Any, lines: list[Any]) -> Any:
    """Put ``lines`` under the module's ``if TYPE_CHECKING:`` (made if missing)."""
    body = list(module.body)
    for index, statement in enumerate(body):
        if isinstance(statement, cst.If) and _is_type_checking_test(statement.test) and isinstance(statement.body, cst.IndentedBlock):
            present = {code_of(s).strip() for s in statement.body.body}
            new = [line for line in lines if code_of(line.with_changes(leading_lines=())).strip() not in present]
            block = statement.body.with_changes(body=[*statement.body.body, *new])
            body[index] = statement.with_changes(body=block)
            return module.with_changes(body=body)
    test, needs_import = _type_checking_name(module)
    position = _after_imports(body)
    new_block = cst.If(test=cst.parse_expression(test), body=cst.IndentedBlock(body=lines),
                       leading_lines=[cst.EmptyLine()] if position else [])
    if position < len(body) and (not body[position].leading_lines or body[position].leading_lines[0].comment is not None):
        body[position] = body[position].with_changes(leading_lines=[cst.EmptyLine(), *body[position].leading_lines])
    body.insert(position, new_block)
    module = module.with_changes(body=body)
    if needs_import:
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "typing", "TYPE_CHECKING")
        module = _blank_after_header(AddImportsVisitor(context).transform_module(module))
    return module


def _blank_after_header(module: Any) -> Any:
    """A blank line between the docstring / future imports and an import line
    AddImportsVisitor put right after them (as isort would)."""
    body = list(module.body)
    for index in range(1, len(body)):
        before, line = body[index - 1], body[index]
        if not (is_docstring(before) and index == 1) and not is_future_import(before):
            continue
        if code_of(line).strip() == "from typing import TYPE_CHECKING" and not line.leading_lines:
            body[index] = line.with_changes(leading_lines=[cst.EmptyLine()])
            return module.with_changes(body=body)
    return module


def _type_checking_name(module: Any) -> tuple[str, bool]:
    """How this module spells TYPE_CHECKING, and whether it must import it."""
    plain_typing = False
    for statement in module.body:
        if not is_import_line(statement):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.module is not None and not isinstance(small.names, cst.ImportStar):
                if dotted_name(small.module) in ("typing", "typing_extensions") and any(
                        dotted_name(a.name) == "TYPE_CHECKING" and not a.asname for a in small.names):
                    return "TYPE_CHECKING", False
            elif isinstance(small, cst.Import):
                plain_typing |= any(dotted_name(a.name) == "typing" and not a.asname for a in small.names)
    return ("typing.TYPE_CHECKING", False) if plain_typing else ("TYPE_CHECKING", True)


def _after_imports(body: Sequence[Any]) -> int:
    """Index just after the module's leading imports (docstring, future imports,
    import lines, and the if/try import guards among them)."""
    position = 0
    for index, statement in enumerate(body):
        if is_import_line(statement) or (index == 0 and is_docstring(statement)):
            position = index + 1
        elif not isinstance(statement, (cst.If, cst.Try)):
            break
    return position


# -- __lazy_modules__ -----------------------------------------------------------------------------


def set_lazy_modules(module: Any, names: list[str]) -> Any:
    """Add ``names`` to the module's ``__lazy_modules__`` list (made if missing),
    placed before the first import it must affect."""
    body = list(module.body)
    for index, statement in enumerate(body):
        if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
            small = statement.body[0]
            if isinstance(small, cst.Assign) and any(dotted_name(t.target) == "__lazy_modules__" for t in small.targets) \
                    and isinstance(small.value, (cst.List, cst.Tuple)):
                present = {e.value.evaluated_value for e in small.value.elements if isinstance(e.value, cst.SimpleString)}
                missing = [n for n in dict.fromkeys(names) if n not in present]
                if missing:
                    elements = [*small.value.elements, *(cst.Element(cst.SimpleString(f'"{n}"')) for n in missing)]
                    elements = [e.with_changes(comma=cst.MaybeSentinel.DEFAULT) if i == len(elements) - 1 else
                                (e if e.comma is not cst.MaybeSentinel.DEFAULT else e.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
                                for i, e in enumerate(elements)]
                    body[index] = statement.with_changes(body=[small.with_changes(value=small.value.with_changes(elements=elements))])
                return module.with_changes(body=body)
    position = 0
    for index, statement in enumerate(body):
        if (index == 0 and is_docstring(statement)) or is_future_import(statement):
            position = index + 1
        else:
            break
    listing = ", ".join(f'"{n}"' for n in dict.fromkeys(names))
    line = cst.parse_statement(f"__lazy_modules__ = [{listing}]  # PEP 810: lazy on Python 3.15+\n")
    if position:
        line = line.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, line)
    return module.with_changes(body=body)
