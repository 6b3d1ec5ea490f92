"""``[tool.advisor]`` in the scanned project's ``pyproject.toml`` -> a frozen Config.

Unknown keys are errors that name the key and the file: a typo in a
linter's configuration that is silently ignored is worse than no option.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from advisor.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

#: Directories never worth scanning: environments, build output, caches, VCS.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".bzr", ".tox", ".nox", ".venv", "venv", ".direnv", "__pypackages__",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".advisor",
    "build", "dist", "node_modules", "site-packages", "*.egg-info", ".eggs",
)


@dataclass(frozen=True)
class Config:
    """Everything that shapes a scan. Built once, then only read."""

    #: Directory holding the pyproject.toml the settings came from (or the cwd).
    root: Path
    #: The file the settings came from, for error messages; None when defaulted.
    source: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: glob -> rule ids ignored in files matching the glob ("*" for all rules).
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: gitignore-style patterns, added to DEFAULT_EXCLUDES.
    exclude: tuple[str, ...] = ()
    #: "3.12" style; the lowest Python the scanned project supports.
    target_version: str = f"{sys.version_info[0]}.{sys.version_info[1]}"
    #: The scanned project's interpreter, used to measure import costs.
    python: str = sys.executable
    #: How ``python`` was chosen ("--python", "config", "VIRTUAL_ENV", "poetry", ...,
    #: "advisor"; "" when nothing chose it): advisor.interpreter.
    python_source: str = ""
    #: Measure import costs with ``python -X importtime`` (else use the table).
    measure_imports: bool = True
    #: Apply excludes to files named on the command line too (pre-commit).
    force_exclude: bool = False
    #: Scan vendored trees (vendor/, _vendor/, vendored/, third_party/) too.
    include_vendored: bool = False
    #: Scan Django migrations packages too.
    include_migrations: bool = False
    #: Per-file analysis time limit in seconds.
    timeout: float = 60.0
    #: Where caches live ("": the user's cache directory, one folder per
    #: project, see advisor.cache_files); relative paths are relative to ``root``.
    cache_dir: str = ""
    #: Import project modules to measure them (--measure-project, command line only:
    #: no key of the project's config can set it).
    measure_project: bool = False
    #: Project-local rule modules to load (dotted names or ./paths).
    plugins: tuple[str, ...] = ()
    #: Entry points the user names (``import pkg.cli``, ``pkg.cli:main``), for the startup model.
    entry_points: tuple[str, ...] = ()
    #: Rule id -> raw options table, checked by each rule's Options class.
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: Deprecated settings found, each with what to write instead (shown as notices).
    deprecations: tuple[str, ...] = ()

    def cache_path(self) -> Path:
        """The absolute cache directory."""
        if not self.cache_dir:
            from advisor.cache_files import project_cache_dir

            return project_cache_dir(self.root)
        path = Path(os.path.expanduser(self.cache_dir))
        return path if path.is_absolute() else self.root / path

    def fingerprint(self) -> str:
        """A string that changes whenever any setting changes: every field,
        so that a new one cannot be forgotten (tests/test_cache_key.py)."""
        parts = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "rule_options":
                value = sorted((k, repr(sorted(v.items()))) for k, v in value.items())
            parts.append((item.name, value))
        return repr(parts)


_LIST_KEYS = {
    "select": "select", "ignore": "ignore", "exclude": "exclude",
    "extend-exclude": "exclude", "plugins": "plugins", "entry-points": "entry_points",
}
#: Old top-level keys that are now options of one rule: key -> rule id. Still
#: read (for one release) and moved into the rule's table, with a notice.
_MOVED_TO_RULES = {
    "side-effect-modules": "lazy-imports", "costly-modules": "lazy-imports", "cheap-modules": "lazy-imports",
}
_SCALAR_KEYS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "target-version": ("target_version", str), "python": ("python", str),
    "measure-imports": ("measure_imports", bool), "timeout": ("timeout", (int, float)),
    "force-exclude": ("force_exclude", bool),
    "include-vendored": ("include_vendored", bool), "include-migrations": ("include_migrations", bool),
    "cache-dir": ("cache_dir", str),
}
#: Config fields no key of a project's configuration sets: they come from the
#: command line or the environment only.
COMMAND_LINE_ONLY = frozenset({"root", "source", "measure_project", "python_source"})
_TABLE_KEYS = {"per-file-ignores", "rules"}
KNOWN_KEYS = frozenset(_LIST_KEYS) | frozenset(_SCALAR_KEYS) | _TABLE_KEYS | frozenset(_MOVED_TO_RULES)


def find_project_root(start: Path) -> Path:
    """The nearest ancestor of ``start`` holding a pyproject.toml, else ``.git``, else start."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for candidate in (start, *start.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def load_config(root: Path, config_file: Path | None = None) -> Config:
    """Read ``[tool.advisor]`` from ``config_file`` or ``root/pyproject.toml``."""
    path = config_file or root / "pyproject.toml"
    if not path.is_file():
        if config_file is not None:
            raise ConfigError(f"config file not found: {config_file}")
        return Config(root=root)
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read TOML: {exc}") from exc
    table = document.get("tool", {}).get("advisor", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.advisor] must be a table")
    config = config_from_table(table, root=path.parent if config_file is None else root, source=path)
    if "target-version" not in table:
        requires = document.get("project", {}).get("requires-python")
        guessed = _target_from_requires(requires) if isinstance(requires, str) else None
        if guessed:
            config = replace(config, target_version=guessed)
    return config


def config_from_table(table: Mapping[str, Any], *, root: Path, source: Path | None = None) -> Config:
    """Check and convert a ``[tool.advisor]`` table."""
    where = str(source) if source else "[tool.advisor]"
    values: dict[str, Any] = {"root": root, "source": source}
    for key, value in table.items():
        if key in _LIST_KEYS:
            values[_LIST_KEYS[key]] = values.get(_LIST_KEYS[key], ()) + _string_list(value, key, where)
        elif key in _SCALAR_KEYS:
            name, kind = _SCALAR_KEYS[key]
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise ConfigError(f"{where}: [tool.advisor] {key} has the wrong type: {value!r}")
            values[name] = value
        elif key == "per-file-ignores":
            values["per_file_ignores"] = _per_file_ignores(value, where)
        elif key == "rules":
            values["rule_options"] = {**_rule_tables(value, where), **values.get("rule_options", {})}
        elif key in _MOVED_TO_RULES:
            _move_to_rule(values, key, _string_list(value, key, where), where, table)
        else:
            raise ConfigError(
                f"{where}: unknown key {key!r} in [tool.advisor]; known keys: "
                + ", ".join(sorted(KNOWN_KEYS))
            )
    if "target_version" in values:
        values["target_version"] = _check_version(values["target_version"], where)
    for entry in values.get("entry_points", ()):
        _check_entry(entry, where)
    if "timeout" in values and not values["timeout"] > 0:
        raise ConfigError(f"{where}: [tool.advisor] timeout must be a number of seconds above 0, got {values['timeout']!r}")
    return Config(**values)


def _move_to_rule(values: dict[str, Any], key: str, value: tuple[str, ...], where: str,
                  table: Mapping[str, Any]) -> None:
    """A deprecated top-level key goes into its rule's options table, unless
    that table sets it already (the new place wins), and says so once."""
    rule_id = _MOVED_TO_RULES[key]
    rules_table = table.get("rules", {}) if isinstance(table.get("rules"), dict) else {}
    written = rules_table.get(rule_id, {}) if isinstance(rules_table.get(rule_id), dict) else {}
    merged = {rule_id: dict(written)} if "rule_options" not in values else dict(values["rule_options"])
    if key not in written:
        merged.setdefault(rule_id, {})[key] = list(value)
    values["rule_options"] = {**values.get("rule_options", {}), **merged}
    values["deprecations"] = values.get("deprecations", ()) + (
        f"{where}: [tool.advisor] {key} is deprecated; write it as {key} in [tool.advisor.rules.{rule_id}]",)


def with_overrides(config: Config, **overrides: Any) -> Config:
    """Apply command-line overrides; None means 'not given'."""
    given = {k: v for k, v in overrides.items() if v is not None}
    names = {f.name for f in fields(Config)}
    unknown = set(given) - names
    if unknown:  # a programming error, not a user one
        raise TypeError(f"unknown Config fields: {sorted(unknown)}")
    if "target_version" in given:
        given["target_version"] = _check_version(given["target_version"], "--target-version")
    return replace(config, **given)


def _string_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.advisor] {key} must be a list of strings")
    return tuple(value)


def _per_file_ignores(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [tool.advisor.per-file-ignores] must be a table")
    return tuple(
        (glob, _string_list(ids, f"per-file-ignores.{glob!r}", where))
        for glob, ids in value.items()
    )


def _rule_tables(value: Any, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(f"{where}: [tool.advisor.rules] must hold one table per rule id")
    return {rule_id: dict(options) for rule_id, options in value.items()}


def _check_entry(entry: str, where: str) -> None:
    from advisor.evidence.entries import parse_entry

    try:
        parse_entry(entry)
    except ValueError as exc:
        raise ConfigError(f"{where}: [tool.advisor] entry-points: {exc}") from None


def _check_version(value: str, where: str) -> str:
    text = value.lower().removeprefix("py").replace("py", "")
    if "." not in text and len(text) >= 2:  # "py312" style
        text = f"{text[0]}.{text[1:]}"
    parts = text.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[0] != "3":
        raise ConfigError(f"{where}: target-version must look like '3.12', got {value!r}")
    return f"{parts[0]}.{int(parts[1])}"


def _target_from_requires(requires: str) -> str | None:
    """'>=3.10' -> '3.10': the lowest version a requires-python admits."""
    for clause in requires.split(","):
        clause = clause.strip()
        if clause.startswith(">="):
            parts = clause[2:].strip().split(".")
            if len(parts) >= 2 and parts[0] == "3" and parts[1].isdigit():
                return f"3.{int(parts[1])}"
    return None


def version_tuple(version: str) -> tuple[int, int]:
    """'3.12' -> (3, 12)."""
    major, minor = version.split(".")
    return int(major), int(minor)
