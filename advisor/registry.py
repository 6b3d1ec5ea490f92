"""Find rule classes: built-ins by import path, project plugins, entry points."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
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
    """Every concrete Rule subclass defined in ``module``."""
    from advisor.rule import Rule

    found = []
    for _, value in inspect.getmembers(module, inspect.isclass):
        if issubclass(value, Rule) and value is not Rule and value.__module__ == getattr(module, "__name__", None):
            if not value.__dict__.get("abstract", False):
                found.append(value)
    return found


def load_plugin(spec: str, root: Path) -> list[type["Rule"]]:
    """Load rules from a dotted module name or a ./path (file or package) under ``root``."""
    try:
        if spec.startswith((".", "/")) or spec.endswith(".py"):
            path = (root / spec).resolve()
            if path.is_dir():
                path = path / "__init__.py"
            if not path.is_file():
                raise ConfigError(f"plugin {spec!r}: no such file {path}")
            name = f"advisor_plugin_{abs(hash(str(path)))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None or module_spec.loader is None:
                raise ConfigError(f"plugin {spec!r}: cannot load {path}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
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


def entry_point_rules() -> list[type["Rule"]]:
    """Rules published by installed packages in the ``advisor.rules`` group."""
    from importlib.metadata import entry_points

    rules: list[type[Rule]] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:
            raise ConfigError(f"entry point {entry.name!r} ({entry.value}) failed to load: {exc}") from exc
        rules.extend(rules_in_module(loaded) if inspect.ismodule(loaded) else [loaded])
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
