"""Every setting is part of the cache key: changing any of them and
rescanning never returns the answer cached for the old value (issue 16: a
changed ``cheap-modules`` used to return the stale finding)."""

from __future__ import annotations

import json
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from advisor.config import _LIST_KEYS, _SCALAR_KEYS, COMMAND_LINE_ONLY, Config
from conftest import run_advisor


def _other(value: Any) -> Any:
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, Path) or value is None:
        return Path("/somewhere/else")
    if isinstance(value, tuple):
        return value + (("x", ("y",)) if value and isinstance(value[0], tuple) else ("x",))
    if isinstance(value, dict):
        return {**value, "lazy-imports": {"threshold-ms": 123.0}}
    raise AssertionError(f"no other value for {value!r}: teach this test the new field's type")


@pytest.mark.parametrize("name", [f.name for f in fields(Config)])
def test_every_config_field_changes_the_cache_key(name: str) -> None:
    config = Config(root=Path("/project"))
    changed = replace(config, **{name: _other(getattr(config, name))})
    assert changed.fingerprint() != config.fingerprint(), name


def test_rule_options_are_keyed_by_value() -> None:
    one = Config(root=Path("/p"), rule_options={"lazy-imports": {"threshold-ms": 5.0}})
    two = Config(root=Path("/p"), rule_options={"lazy-imports": {"threshold-ms": 6.0}})
    assert one.fingerprint() != two.fingerprint()


def test_every_config_field_is_a_setting_or_command_line_only() -> None:
    """A new field is either read from [tool.advisor] or deliberately not."""
    # deprecations: what reading the keys found, not a setting (it only adds notices)
    from_keys = (set(_LIST_KEYS.values()) | {name for name, _ in _SCALAR_KEYS.values()}
                 | {"per_file_ignores", "rule_options", "deprecations"})
    assert {f.name for f in fields(Config)} == from_keys | COMMAND_LINE_ONLY


def test_measure_project_cannot_come_from_a_config_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.advisor]\nmeasure-project = true\n")
    done = run_advisor("scan", ".", cwd=tmp_path)
    assert done.returncode == 2 and "unknown key 'measure-project'" in done.stderr


COSTLY = "import asyncio\nimport json\n\n\ndef run(coro):\n    return asyncio.run(coro), json.dumps\n"


def _statements(project: Path, *extra: str) -> list[str]:
    done = run_advisor("scan", ".", "--format", "json", "--no-measure", "--select", "lazy-imports", *extra, cwd=project)
    assert done.returncode in (0, 1), done.stderr
    return sorted(f["data"]["statement"] for f in json.loads(done.stdout)["findings"])


@pytest.mark.parametrize("key, value, before, after", [
    ("cheap-modules", '["asyncio"]', ["import asyncio"], []),
    ("costly-modules", '["json"]', ["import asyncio"], ["import asyncio", "import json"]),
    ("side-effect-modules", '["asyncio"]', ["import asyncio"], []),
])
def test_changing_a_setting_never_answers_from_the_cache(tmp_path: Path, key: str, value: str,
                                                        before: list[str], after: list[str]) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "cli.py").write_text(COSTLY)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n')
    assert _statements(tmp_path) == before
    assert _statements(tmp_path) == before  # (answered from the caches)
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "p"\n[tool.advisor]\n{key} = {value}\n')
    assert _statements(tmp_path) == after


def test_the_python_interpreter_is_part_of_the_cache_key(tmp_path: Path) -> None:
    one = Config(root=tmp_path, python=sys.executable)
    two = replace(one, python=str(Path(sys.executable).with_name("python3")))
    assert one.fingerprint() != two.fingerprint()
