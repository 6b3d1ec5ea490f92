"""Checks for tests/test_properties.py: where a lazy-imports fix may change
a file (derived from the scan's findings), and what a generated module does
when run, to compare before and after a fix."""

from __future__ import annotations

import ast
import difflib
import re
import types
import warnings
from typing import Any


def source_lines(text: str) -> list[str]:
    """Lines as Python counts them: ``str.splitlines`` also breaks at form
    feeds, \\x1c-\\x1e, \\x85 and \\u2028, which the tokenizer does not."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def allowed_regions(text: str, findings: list[dict[str, Any]], strategy: str | None = None) -> tuple[set[int], set[int]]:
    """(0-based old lines the fixes may delete or replace, old line indexes
    before which they may insert), derived from each finding's span and data:
    the import statement (and the comment lines just above it, which travel
    with it), the top of each function in ``data.functions``, and for
    annotation uses the annotations naming the import, the module's leading
    import block (``if TYPE_CHECKING:``) and any ``__lazy_modules__`` line."""
    tree = ast.parse(text)
    lines = source_lines(text)
    replace: set[int] = set()
    insert: set[int] = set()
    for finding in findings:
        statement = next(s for s in tree.body if s.lineno <= finding["line"] <= (s.end_lineno or s.lineno))
        replace.update(range(statement.lineno - 1, statement.end_lineno or statement.lineno))
        above = statement.lineno - 2
        while above >= 0 and lines[above].lstrip().startswith("#"):
            replace.add(above)
            above -= 1
        data = finding["data"]
        for qualname in data["functions"]:
            function = find_function(tree, qualname)
            first = function.body[0]
            if first.lineno == function.lineno:  # `def f(): return x` becomes a block
                replace.update(range(function.lineno - 1, function.end_lineno or function.lineno))
            else:
                docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(function.body) > 1
                insert.update(range(function.lineno, function.body[1 if docstring else 0].lineno))
        if data["usage"] == "functions" and strategy != "lazy-modules" and not data.get("unsafe"):
            continue  # (the unsafe tier's __getattr__ and TYPE_CHECKING import go after the leading imports)
        insert.update(range(0, leading_block_end(tree) + 1))  # `if TYPE_CHECKING:` or `__lazy_modules__`
        replace.update(i for s in tree.body if is_typing_import(s) or is_lazy_modules(s) or is_type_checking_block(s)
                       for i in range(s.lineno - 1, s.end_lineno or s.lineno))
        names = set(data["names"])
        for annotation in annotations_outside_bodies(tree):
            if names & identifiers(annotation):
                replace.update(range(annotation.lineno - 1, annotation.end_lineno or annotation.lineno))
    return replace, insert


def find_function(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    scope: list[ast.stmt] = tree.body
    *classes, name = qualname.split(".")
    for part in classes:
        scope = next(n for n in scope if isinstance(n, ast.ClassDef) and n.name == part).body
    return next(n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)


def leading_block_end(tree: ast.Module) -> int:
    """0-based line of the first statement after the docstring, imports and
    import guards at the top of the module."""
    for index, statement in enumerate(tree.body):
        docstring = index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        if not (docstring or isinstance(statement, (ast.Import, ast.ImportFrom, ast.If, ast.Try))):
            return statement.lineno - 1
    return len(tree.body) and (tree.body[-1].end_lineno or 0)


def is_typing_import(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.ImportFrom) and statement.module == "typing"


def is_type_checking_block(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test)


def is_lazy_modules(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and any(getattr(t, "id", "") == "__lazy_modules__" for t in statement.targets)


def annotations_outside_bodies(tree: ast.Module) -> list[ast.expr]:
    found: list[ast.expr] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                found.extend(p.annotation for p in params if p is not None and p.annotation is not None)
                if node.returns is not None:
                    found.append(node.returns)
            elif isinstance(node, ast.ClassDef):
                walk(node.body)
            elif isinstance(node, ast.AnnAssign):
                found.append(node.annotation)
            else:
                for field in ("body", "orelse", "finalbody"):
                    walk(getattr(node, field, []) or [])
                for handler in getattr(node, "handlers", []):
                    walk(handler.body)

    walk(tree.body)
    return found


def identifiers(node: ast.AST) -> set[str]:
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str):
            names.update(part for word in child.value.split(".") for part in word.replace("[", " ").split())
    return names


def outside_regions(before: str, after: str, findings: list[dict[str, Any]], strategy: str | None = None) -> list[str]:
    """The changes of the diff ``before`` -> ``after`` that no finding explains.

    The diff is taken over non-blank lines (a line diff would pair up blank
    lines arbitrarily); blank lines may change only in a gap that touches an
    allowed region (the fix tidies the blank lines around what it moves)."""
    old, new = source_lines(before), source_lines(after)
    replace, insert = allowed_regions(before, findings, strategy)
    old_at = [i for i, line in enumerate(old) if line.strip()]
    new_at = [j for j, line in enumerate(new) if line.strip()]

    def gap(k: int, after: int = 0) -> set[int]:
        """Old line indexes from the non-blank line before position k (plus
        ``after``) to the one at k."""
        low = old_at[k - 1] + after if k > 0 else 0
        high = old_at[k] if k < len(old_at) else len(old)
        return set(range(low, high + 1))

    problems = []
    matcher = difflib.SequenceMatcher(None, [old[i] for i in old_at], [new[j] for j in new_at], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i1 + 1, i2):  # blank lines between two unchanged lines
                j = j1 + k - i1
                if old_at[k] - old_at[k - 1] != new_at[j] - new_at[j - 1] and not gap(k) & (replace | insert):
                    problems.append(f"blank lines changed above old line {old_at[k] + 1}: {old[old_at[k]]!r}")
            continue
        touched = {old_at[k] for k in range(i1, i2)}
        while tag == "delete" and not touched <= replace and i2 < len(old_at) and old[old_at[i1]] == old[old_at[i2]]:
            # the same deletion one line lower (difflib pairs the first of two equal lines, say two `)`)
            i1, i2 = i1 + 1, i2 + 1
            touched = {old_at[k] for k in range(i1, i2)}
        if not touched <= replace:
            problems.append(f"{tag} old lines {sorted(i + 1 for i in touched - replace)}: "
                            f"{[old[i] for i in sorted(touched)]!r} -> {[new[j] for j in new_at[j1:j2]]!r}")
        if tag == "insert" and not gap(i1, after=1) & insert:
            problems.append(f"insert before old line {old_at[i1] + 1 if i1 < len(old_at) else 'end'}: "
                            f"{[new[j] for j in new_at[j1:j2]]!r}")
    return problems


def behaviour(text: str) -> dict[str, Any]:
    """Run the module; call each ``f_*`` function and ``K_*().m()``: what each returns or raises."""
    module = types.ModuleType("gen_mod")
    seen: dict[str, Any] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(text, "gen_mod.py", "exec", dont_inherit=True), module.__dict__)
    except Exception as exc:
        seen["<module>"] = ("raised", type(exc).__name__)
    for name, value in sorted(vars(module).items()):
        call = value if name.startswith("f_") else (lambda cls=value: cls().m()) if name.startswith("K_") else None
        if call is None:
            continue
        try:
            seen[name] = ("ok", call())
        except Exception as exc:  # a trap such as `del name` fails before and after alike
            seen[name] = ("raised", type(exc).__name__)
    return seen


def same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a is b or a == b
