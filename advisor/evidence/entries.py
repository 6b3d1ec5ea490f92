"""Find a project's entry points without running it: console and GUI
scripts, ``__main__`` modules, the package import itself, Django's startup
(settings, ``INSTALLED_APPS``, models, ``ROOT_URLCONF``) and the entries a
user names. Everything is read statically (TOML and ``ast``): project code
is never imported, so this is safe on a checkout nobody trusts.

Why these: startup is what a user waits for when the program starts. Code
only migrations, management commands or tests import is not startup, so a
module that no entry found here reaches has no startup saving.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterable, Mapping

from advisor.evidence.startup import Entry

#: Top-level packages that are never a program's startup.
_NOT_STARTUP = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "benchmarks", "scripts"})
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_SETTINGS_ENV = re.compile(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""")


def script_entries(pyproject: Mapping[str, Any]) -> list[Entry]:
    """``[project.scripts]`` and ``[project.gui-scripts]``: ``name = "mod:func"``."""
    project = pyproject.get("project", {})
    found = []
    for table, kind in (("scripts", "console script"), ("gui-scripts", "GUI script")):
        scripts = project.get(table, {}) if isinstance(project, dict) else {}
        for name, target in (scripts.items() if isinstance(scripts, dict) else ()):
            module = str(target).partition(":")[0].strip()
            if _DOTTED.match(module):
                found.append(Entry(f"{kind} `{name}`", (module,)))
    return found


def setup_entries(setup_cfg: str = "", setup_py: str = "", pyproject: Mapping[str, Any] | None = None) -> list[Entry]:
    """Console scripts declared outside ``[project.scripts]``: ``[tool.poetry.scripts]``,
    setup.cfg's ``[options.entry_points] console_scripts`` and a literal
    ``entry_points={"console_scripts": [...]}`` in setup.py (read with ``ast``, never run)."""
    specs: list[str] = []
    poetry = ((pyproject or {}).get("tool") or {}).get("poetry") or {}
    scripts = poetry.get("scripts") if isinstance(poetry, dict) else None
    if isinstance(scripts, dict):
        specs += [f"{name} = {target}" for name, target in scripts.items() if isinstance(target, str)]
    if setup_cfg:
        specs += _ini_scripts(setup_cfg, "options.entry_points", "console_scripts")
    specs += _setup_py_scripts(setup_py)
    found = []
    for spec in specs:
        name, _, target = spec.partition("=")
        module = target.partition(":")[0].strip()
        if name.strip() and _DOTTED.match(module):
            found.append(Entry(f"console script `{name.strip()}`", (module,)))
    return list(dict.fromkeys(found))


def _ini_scripts(text: str, section: str = "console_scripts", key: str = "") -> list[str]:
    """``name = mod:func`` lines of an ini text: a section's key (setup.cfg), or
    a whole ``[console_scripts]`` section (setup.py's string form)."""
    import configparser
    import textwrap

    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    try:
        parser.read_string(textwrap.dedent(text))
        if key:
            return parser.get(section, key, fallback="").splitlines()
        return [f"{name} = {value}" for name, value in parser.items(section)] if parser.has_section(section) else []
    except configparser.Error:
        return []


def _setup_py_scripts(text: str) -> list[str]:
    if "console_scripts" not in text:
        return []
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return []
    specs: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "entry_points" and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):  # the ini form: entry_points="""[console_scripts] ..."""
            specs += _ini_scripts(node.value.value)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "console_scripts" and isinstance(value, (ast.List, ast.Tuple)):
                    specs += [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return specs


def main_entries(modules: Iterable[str]) -> list[Entry]:
    """``python -m pkg`` for every ``pkg.__main__`` module."""
    return [Entry(f"`python -m {m.rsplit('.', 1)[0]}`", (m,))
            for m in sorted(modules) if m.endswith(".__main__")]


def package_entries(modules: Iterable[str]) -> list[Entry]:
    """``import pkg`` for each top-level package (a name with submodules)."""
    names = set(modules)
    tops = sorted({m.split(".", 1)[0] for m in names if "." in m})
    return [Entry(f"`import {top}`", (top,)) for top in tops if top in names and top not in _NOT_STARTUP]


def parse_entry(text: str, modules: Iterable[str] = ()) -> Entry:
    """A user-named entry: ``import a.b[, c]``, ``python -m pkg``, ``pkg.cli:main``
    or a bare ``pkg.cli``. Raises ValueError naming what is wrong."""
    spec = text.strip()
    known = set(modules)
    if spec.startswith("import "):
        roots = tuple(part.strip().split(" as ")[0].strip() for part in spec[len("import "):].split(","))
    elif spec.startswith(("python -m ", "-m ")):
        target = spec.split("-m", 1)[1].strip()
        roots = (f"{target}.__main__",) if f"{target}.__main__" in known else (target,)
    else:
        roots = (spec.partition(":")[0].strip(),)
    if not roots or not all(_DOTTED.match(r) for r in roots):
        raise ValueError(f"entry point {text!r}: expected `import pkg.mod`, `python -m pkg`, `pkg.mod:func` or `pkg.mod`")
    return Entry(f"`{spec}`", roots)


def django_entries(sources: Mapping[str, str]) -> list[Entry]:
    """Django's startup per settings module, read from the source text of the
    project's modules (module name -> text): the settings module, each
    installed app (its package, ``apps`` and ``models`` modules, which
    ``django.setup()`` imports) and the ``ROOT_URLCONF`` module."""
    named = {m for text in sources.values() for m in _SETTINGS_ENV.findall(text)}
    settings = {m: found for m, text in sources.items() if (found := _settings_values(text)) is not None}
    return django_entries_from(settings, named, sources)


def django_entries_from(settings: Mapping[str, tuple[list[str], str]], named: Iterable[str],
                        modules: Iterable[str]) -> list[Entry]:
    """``django_entries`` from settings already read: settings module ->
    (INSTALLED_APPS, ROOT_URLCONF); ``named``: the modules DJANGO_SETTINGS_MODULE
    names in the sources; ``modules``: every project module."""
    named = set(named)
    known = set(modules)
    found = []
    for module in sorted(settings):
        if named and module not in named:
            continue
        apps, urlconf = settings[module]
        roots = [module] + [r for app in apps for r in _app_roots(app, known)]
        if urlconf:
            roots.append(urlconf)
        found.append(Entry(f"Django settings `{module}`", tuple(dict.fromkeys(roots))))
    return found


def _settings_values(text: str) -> tuple[list[str], str] | None:
    """(INSTALLED_APPS, ROOT_URLCONF) assigned at module level, or None when
    the module does not assign INSTALLED_APPS (not a settings module)."""
    if "INSTALLED_APPS" not in text:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    return settings_from_tree(tree)


def settings_from_tree(tree: ast.Module) -> tuple[list[str], str] | None:
    """(INSTALLED_APPS, ROOT_URLCONF) a parsed module assigns at module level,
    or None when it does not assign INSTALLED_APPS."""
    apps: list[str] | None = None
    urlconf = ""
    for node in tree.body:
        target, value = _assignment(node)
        if target == "INSTALLED_APPS" and isinstance(value, (ast.List, ast.Tuple)):
            apps = [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
        elif target == "ROOT_URLCONF" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            urlconf = value.value
    return (apps, urlconf) if apps is not None else None


def _assignment(node: ast.stmt) -> tuple[str, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return "", None


def _app_roots(app: str, sources: Iterable[str]) -> list[str]:
    """An INSTALLED_APPS item -> the modules ``django.setup()`` imports for it.

    ``"pkg.apps.PkgConfig"`` names a class: its module is ``pkg.apps``. For a
    project app, its ``apps`` and ``models`` modules load too (app registry,
    then ``import_models()``); an external app is measured as a whole.
    """
    if not _DOTTED.match(app):
        return []
    parts = app.split(".")
    if len(parts) > 1 and parts[-1][:1].isupper():
        module = ".".join(parts[:-1])
        package = module.rsplit(".", 1)[0] if module.endswith(".apps") else module
    else:
        module = package = app
    roots = [package, module]
    known = sources if isinstance(sources, (set, frozenset)) else set(sources)
    roots += [m for m in (f"{package}.apps", f"{package}.models") if m in known]
    return list(dict.fromkeys(roots))


__all__ = ["django_entries", "django_entries_from", "main_entries", "package_entries", "parse_entry", "script_entries",
           "settings_from_tree", "setup_entries"]
