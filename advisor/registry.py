"""Find rule classes: built-ins by import path, project plugins, entry points."""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Iterable

from advisor.errors import ConfigError

if TYPE_CHECKING:
    from advisor.config import Config
    from advisor.rule import Rule

ENTRY_POINT_GROUP = "advisor.rules"


def builtin_rule_paths() -> dict[str, str]:
    """Rule id -> "module:Class" for the built-in rules."""
    from advisor.rules import BUILTIN_RULES

    return dict(BUILTIN_RULES)


def load_class(path: str) -> type["Rule"]:
    """Import "package.module:Class"."""
    module_name, _, class_name = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)  # type: ignore[no-any-return]


def rules_in_module(module: object) -> list[type["Rule"]]:
    """Every concrete Rule subclass defined in ``module`` or one of its submodules
    (a plugin package may re-export rules from submodules)."""
    from advisor.rule import Rule

    name = getattr(module, "__name__", None)
    found = []
    for _, value in inspect.getmembers(module, inspect.isclass):
        if not issubclass(value, Rule) or value is Rule or value.__dict__.get("abstract", False):
            continue
        if name and (value.__module__ == name or value.__module__.startswith(name + ".")):
            found.append(value)
    return found


def load_plugin(spec: str, root: Path) -> list[type["Rule"]]:
    """Load rules from a dotted module name or a ./path (file or package) under ``root``."""
    try:
        if spec.startswith((".", "/")) or spec.endswith(".py"):
            module = _load_path(spec, root)
        else:
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            module = importlib.import_module(spec)
    except ConfigError:
        raise
    except Exception as exc:  # a plugin's own bug: say which plugin
        raise ConfigError(f"plugin {spec!r} failed to load: {type(exc).__name__}: {exc}") from exc
    rules = rules_in_module(module)
    if not rules:
        raise ConfigError(f"plugin {spec!r} defines no Rule subclasses")
    return rules


def _load_path(spec: str, root: Path) -> ModuleType:
    """Import a plugin file or package by path, under a name that is stable
    across runs and changes with the plugin's source (the result cache keys on
    rule modules, so an edited plugin invalidates cached results)."""
    path = (root / spec).resolve()
    package = path.is_dir()
    if package:
        path = path / "__init__.py"
    if not path.is_file():
        raise ConfigError(f"plugin {spec!r}: no such file {path}")
    digest = hashlib.sha1(str(path).encode() + b"\0" + _plugin_source(path)).hexdigest()[:12]
    name = f"advisor_plugin_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    locations = [str(path.parent)] if package else None
    module_spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"plugin {spec!r}: cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)  # leave no half-initialised module behind
        raise
    return module


def _plugin_source(path: Path) -> bytes:
    """The plugin's source: the file, or every .py file of the package."""
    if path.name != "__init__.py":
        return path.read_bytes()
    return b"".join(p.read_bytes() for p in sorted(path.parent.rglob("*.py")))


def entry_point_rules() -> list[type["Rule"]]:
    """Rules published by installed packages in the ``advisor.rules`` group; an
    entry point names a module (every rule in it) or one Rule class."""
    from importlib.metadata import entry_points

    from advisor.rule import Rule

    rules: list[type[Rule]] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:
            raise ConfigError(
                f"entry point {entry.name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}"
            ) from exc
        if inspect.ismodule(loaded):
            found = rules_in_module(loaded)
        elif inspect.isclass(loaded) and issubclass(loaded, Rule):
            found = [loaded]
        else:
            raise ConfigError(f"entry point {entry.name!r} ({entry.value}) is neither a module nor a Rule subclass")
        if not found:
            raise ConfigError(f"entry point {entry.name!r} ({entry.value}) defines no Rule subclasses")
        rules.extend(found)
    return rules


def all_rules(config: "Config", *, include_entry_points: bool = True) -> dict[str, type["Rule"]]:
    """Every known rule, built-in first, keyed by id; a clash is an error."""
    rules: dict[str, type[Rule]] = {rid: load_class(path) for rid, path in builtin_rule_paths().items()}
    extra: list[type[Rule]] = []
    for spec in config.plugins:
        extra.extend(load_plugin(spec, config.root))
    if include_entry_points:
        extra.extend(entry_point_rules())
    for rule in extra:
        if rule.id in rules and rules[rule.id] is not rule:
            raise ConfigError(f"two rules share the id {rule.id!r}: {rules[rule.id].__module__} and {rule.__module__}")
        rules[rule.id] = rule
    return rules


def check_ids(ids: Iterable[str], known: Iterable[str], where: str) -> None:
    """Reject unknown rule ids with a did-you-mean."""
    known = list(known)
    for rule_id in ids:
        if rule_id in known or rule_id == "ALL":
            continue
        close = difflib.get_close_matches(rule_id, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known rules: {', '.join(sorted(known))}"
        raise ConfigError(f"{where}: unknown rule {rule_id!r}{hint}")


def enabled_rule_ids(config: "Config", known: Iterable[str]) -> list[str]:
    """Apply select/ignore: select defaults to every rule, ignore wins."""
    known = list(known)
    check_ids(config.select, known, "select")
    check_ids(config.ignore, known, "ignore")
    for _, ids in config.per_file_ignores:
        check_ids([i for i in ids if i != "*"], known, "per-file-ignores")
    selected = known if not config.select or "ALL" in config.select else [r for r in known if r in config.select]
    ignored = set(config.ignore)
    if "ALL" in ignored:
        return []
    return [r for r in selected if r not in ignored]
