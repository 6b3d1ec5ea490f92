"""Hypothesis strategies for tests/test_properties.py: small projects whose
module imports costly stdlib modules (costly per advisor's bundled import-cost
table) and uses them in places the lazy-imports fix may rewrite — function and
method bodies, annotations — mixed with the traps it must leave alone:
module-level use, decorators, defaults, class bodies, lambdas, ``__all__``,
``try/except ImportError``, conditional imports, ``global``, ``del``, star
imports, shadowing, re-exports from another module and ``mock.patch``
strings in the tests.

Every generated module runs: the test executes it before and after the fix
and calls its ``f_*`` functions and ``K_*().m()`` methods, which return the
objects they read, so a fix that changes behaviour is caught too. Nothing
generated calls anything that could touch the network or the disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

#: Costly module (listed in advisor/data/import_costs.json at >= 5 ms) ->
#: attributes it has. Attribute names are unique across modules so that
#: ``from`` imports never bind the same name twice by accident.
MODULES: dict[str, tuple[str, ...]] = {
    "asyncio": ("sleep", "gather"),
    "statistics": ("mean", "median"),
    "unittest.mock": ("MagicMock", "sentinel"),
    "urllib.request": ("Request", "urlopen"),
    "http.client": ("HTTPConnection", "responses"),
    "email.mime.multipart": ("MIMEMultipart",),
    "tarfile": ("TarFile", "is_tarfile"),
    "concurrent.futures": ("ThreadPoolExecutor", "wait"),
    "zipfile": ("ZipFile", "is_zipfile"),
    "sqlite3": ("connect", "Row"),
    "subprocess": ("PIPE", "CalledProcessError"),
    "ctypes": ("c_int", "sizeof"),
    "xml.etree.ElementTree": ("Element", "tostring"),
    "decimal": ("Decimal", "Context"),
    "difflib": ("SequenceMatcher", "unified_diff"),
    "uuid": ("UUID", "uuid4"),
    "csv": ("reader", "writer"),
    "tomllib": ("loads",),
}

#: Places a name is read where the fix may move its import (into a function)
#: or put it under TYPE_CHECKING (annotations).
DEFERRABLE_USES = (
    "func", "func_doc", "oneliner", "async", "decorated", "method", "staticmethod", "nested",
    "fstring", "comment_first", "multiline_sig", "annotation", "str_annotation", "module_annotation",
)
#: Places the fix must leave alone (or that make the rule stay silent).
TRAP_USES = (
    "module_level", "decorator_arg", "default", "class_body", "lambda", "comprehension",
    "main_block", "dunder_all", "global_rebind", "global_read", "del_module", "shadow_local",
    "shadow_param", "hot_loop", "reexport", "patched", "dynamic",
)
#: Uses that make a finding need the unsafe tier (the name must stay a module attribute).
UNSAFE_USES = ("dunder_all", "reexport", "patched")
IMPORT_WRAPPERS = ("plain", "comment_after", "comment_above", "with_cheap", "semicolon", "plain",
                   "plain", "try_except", "conditional")


@dataclass(frozen=True)
class Target:
    """One import: the statement, the names it binds and expressions reading them."""

    module: str
    statement: str
    bound: tuple[str, ...]
    exprs: tuple[str, ...]


@dataclass
class Project:
    """Files of a generated project, relative to its root."""

    files: dict[str, str] = field(default_factory=dict)
    #: What went into pkg/mod.py, for a readable failure message.
    recipe: list[str] = field(default_factory=list)


@st.composite
def targets(draw: st.DrawFn, module: str, index: int) -> Target:
    attrs = MODULES[module]
    form = draw(st.sampled_from(("import", "import_as", "from", "from_as", "from_multi", "from_paren")))
    if form in ("from_multi", "from_paren") and len(attrs) < 2:
        form = "from"
    if form == "import":
        return Target(module, f"import {module}", (module.split(".")[0],), tuple(f"{module}.{a}" for a in attrs))
    if form == "import_as":
        alias = f"m{index}"
        return Target(module, f"import {module} as {alias}", (alias,), tuple(f"{alias}.{a}" for a in attrs))
    if form == "from":
        attr = draw(st.sampled_from(attrs))
        return Target(module, f"from {module} import {attr}", (attr,), (attr,))
    if form == "from_as":
        attr, alias = draw(st.sampled_from(attrs)), f"a{index}"
        return Target(module, f"from {module} import {attr} as {alias}", (alias,), (alias,))
    names = attrs[:2]
    if form == "from_paren":
        inner = "".join(f"    {n},  # {n} for later\n" if i else f"    {n},\n" for i, n in enumerate(names))
        return Target(module, f"from {module} import (\n{inner})", names, names)
    return Target(module, f"from {module} import {', '.join(names)}", names, names)


def wrap_import(target: Target, wrapper: str) -> str:
    """The import line(s) for ``target`` in one of several layouts."""
    statement = target.statement
    single_line = "\n" not in statement
    if wrapper == "comment_after" and single_line:
        return f"{statement}  # {target.module} is needed later\n"
    if wrapper == "comment_above":
        return f"# {target.module} for the functions below\n{statement}\n"
    if wrapper == "with_cheap" and statement.startswith("import "):
        return f"import os, {statement[len('import '):]}\n"
    if wrapper == "semicolon" and single_line:
        return f"import json; {statement}\n"
    if wrapper == "try_except":
        body = statement.replace("\n", "\n    ")
        return f"try:\n    {body}\nexcept ImportError:\n    pass\n"
    if wrapper == "conditional":
        body = statement.replace("\n", "\n    ")
        return f"if True:\n    {body}\n"
    return statement + "\n"


def render_use(kind: str, k: int, name: str, expr: str) -> str:
    """A top-level block that reads ``expr`` (binding ``name``) in the way ``kind`` says."""
    ret = f"    return ({expr},)\n"
    blocks = {
        "func": f"def f_{k}():\n{ret}",
        "func_doc": f'def f_{k}():\n    """Read {name}."""\n{ret}',
        "oneliner": f"def f_{k}(): return ({expr},)\n",
        "async": f"async def a_{k}():\n{ret}",
        "decorated": f"@_keep\ndef f_{k}():\n{ret}",
        "method": f"class K_{k}:\n    def m(self):\n    {ret}",
        "staticmethod": f"class K_{k}:\n    @staticmethod\n    def m():\n    {ret}",
        "nested": f"def f_{k}():\n    def inner():\n    {ret}\n    return inner()\n",
        "fstring": f'def f_{k}():\n    return (f"{{{expr}!r}}",)\n',
        "comment_first": f"def f_{k}():\n    # {name} is read below\n\n{ret}",
        "multiline_sig": f"def f_{k}(\n    a=1,\n    b=2,\n):\n{ret}",
        "annotation": f"def f_{k}(x: {expr} = None) -> {expr}:\n    return (x,)\n",
        "str_annotation": f'def f_{k}(x: "{expr}" = None):\n    return (x,)\n',
        "module_annotation": f"v_{k}: {expr} = None\n",
        "module_level": f"X_{k} = ({expr},)\n",
        "decorator_arg": f"@_tag({expr})\ndef f_{k}():\n{ret}",
        "default": f"def f_{k}(x={expr}):\n    return (x,)\n",
        "class_body": f"class K_{k}:\n    attr = {expr}\n\n    def m(self):\n    {ret}",
        "lambda": f"L_{k} = lambda: ({expr},)\n",
        "comprehension": f"C_{k} = [{expr} for _ in range(1)]\n",
        "main_block": f'if __name__ == "__main__":\n    print({expr})\n',
        "global_rebind": f"def g_{k}():\n    global {name}\n    {name} = None\n",
        "global_read": f"def f_{k}():\n    global {name}\n{ret}",
        "shadow_local": f"def f_{k}():\n    {name} = 1\n    return ({name},)\n",
        "shadow_param": f"def f_{k}({name}=None):\n    return ({name},)\n",
        "hot_loop": f"def f_{k}():\n{ret}\n\ndef f_{k}_loop():\n    return [f_{k}() for _ in range(2)]\n",
        "dynamic": f'def f_{k}():\n    return (globals()["{name}"],)\n',
    }
    return blocks.get(kind, "")


PRELUDE = "def _keep(function):\n    return function\n\n\ndef _tag(*_args):\n    return _keep\n"


@st.composite
def projects(draw: st.DrawFn, max_modules: int = 4, traps: tuple[str, ...] = TRAP_USES) -> Project:
    """A project: pyproject.toml, pkg/mod.py (the subject), maybe pkg/user.py
    (re-exports) and tests/test_mod.py (``mock.patch`` strings). ``traps``:
    the trap uses to draw from (UNSAFE_USES: the unsafe tier's cases)."""
    modules = draw(st.lists(st.sampled_from(sorted(MODULES)), min_size=1, max_size=max_modules, unique=True))
    project = Project()
    head: list[str] = []
    # Rare features are drawn as the *largest* integer: hypothesis favours
    # small values, and the plain program should be the common one.
    if draw(st.booleans()):
        head.append('"""A generated module."""\n')
    if draw(st.integers(0, 3)) == 3:
        head.append("from __future__ import annotations\n")
    if draw(st.integers(0, 4)) == 4:
        head.append("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import decimal\n")
    if draw(st.integers(0, 5)) == 5:
        head.append(f"from {draw(st.sampled_from(('os.path', 'statistics', 'difflib')))} import *\n")
    imports, blocks, exported, reexported, patched, tail = [], [], [], [], [], []
    k = 0
    for index, module in enumerate(modules):
        target = draw(targets(module, index))
        wrapper = draw(st.sampled_from(IMPORT_WRAPPERS))
        imports.append(wrap_import(target, wrapper))
        project.recipe.append(f"{target.statement!r} [{wrapper}]")
        # Two deferrable uses to one trap: most programs have something to fix.
        use = st.one_of(st.sampled_from(DEFERRABLE_USES), st.sampled_from(DEFERRABLE_USES), st.sampled_from(traps))
        uses = draw(st.lists(use, min_size=1, max_size=3))
        for use in uses:
            k += 1
            pick = draw(st.integers(0, len(target.bound) - 1))
            name, expr = target.bound[pick], target.exprs[pick]
            project.recipe.append(f"  {use}: {expr}")
            if use == "dunder_all":
                exported.append(name)
            elif use == "reexport":
                reexported.append(name)
            elif use == "patched":
                patched.append(name)
            elif use == "del_module":
                if f"del {name}\n" not in tail:  # a second `del` would fail before any fix
                    tail.append(f"del {name}\n")
            else:
                blocks.append(render_use(use, k, name, expr))
    blocks = draw(st.permutations(blocks))
    parts = [*head, "".join(imports), PRELUDE, *blocks]
    if exported:
        parts.append(f"__all__ = {sorted(set(exported))!r}\n")
    parts.extend(tail)
    project.files["pkg/mod.py"] = "\n\n".join(parts)
    project.files["pkg/__init__.py"] = ""
    project.files["pyproject.toml"] = '[project]\nname = "gen"\n\n[tool.advisor]\nmeasure-imports = false\n'
    if reexported:
        names = ", ".join(sorted(set(reexported)))
        project.files["pkg/user.py"] = f"from pkg.mod import {names}\n\n\ndef use():\n    return ({names},)\n"
    if patched:
        lines = "".join(f'    with mock.patch("pkg.mod.{n}"):\n        pass\n' for n in sorted(set(patched)))
        project.files["tests/test_mod.py"] = f"from unittest import mock\n\n\ndef test_patch():\n{lines}"
    return project
