"""The whole-scan memo answers an unchanged rescan, and anything the findings
depend on makes it miss."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from advisor.findings import ScanReport

from advisor.engine import scan as engine
from advisor.config import load_config

CODE = "def f(items):\n    out = ''\n    for item in items:\n        out += str(item)\n    return out\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.advisor]\nmeasure-imports = false\n')
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "a.py").write_text(CODE)
    (tmp_path / "demo" / "b.py").write_text("import json\n\n\ndef g():\n    return json.dumps(1)\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _scan(project: Path, **kwargs: object) -> "ScanReport":
    return engine.scan([project / "demo"], load_config(project), jobs=1, **kwargs)  # type: ignore[arg-type]


def _collects(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = engine._refine_and_rank

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_refine_and_rank", counting)
    return calls


def test_unchanged_rescan_is_answered_from_the_memo(project: Path, monkeypatch: pytest.MonkeyPatch):
    first = _scan(project)
    assert first.findings
    calls = _collects(monkeypatch)
    second = _scan(project)
    assert calls == []
    assert second.findings == first.findings and second.errors == first.errors
    assert second.notices == first.notices


@pytest.mark.parametrize("change", ["touch", "edit", "new-file", "config", "no-cache"])
def test_a_change_misses_the_memo(project: Path, monkeypatch: pytest.MonkeyPatch, change: str):
    _scan(project)
    calls = _collects(monkeypatch)
    target = project / "demo" / "a.py"
    if change == "touch":  # same content, new mtime: the file cache hits by hash, the memo must not
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    elif change == "edit":
        target.write_text(CODE + "\n\ndef h():\n    return 1\n")
    elif change == "new-file":
        (project / "demo" / "c.py").write_text("x = 1\n")
    elif change == "config":
        (project / "pyproject.toml").write_text('[project]\nname = "demo"\n[tool.advisor]\nmeasure-imports = false\nignore = ["lazy-imports"]\n')
    report = _scan(project, use_cache=change != "no-cache")
    assert calls == [1]
    if change == "config":
        assert all(f.rule != "lazy-imports" for f in report.findings)


def test_a_changed_interpreter_environment_misses_the_memo(project: Path, monkeypatch: pytest.MonkeyPatch):
    """Installing a package changes a sys.path directory's mtime: measured import costs may change."""
    from advisor.engine.memo import environment_stamp

    (project / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    config = load_config(project)
    site = project / "site-packages"
    site.mkdir()
    config.cache_path().mkdir(parents=True, exist_ok=True)
    cache = {"format": 1, "python": config.python, "entries": {"__probe__": {"versions": {}, "paths": {str(site): 1}}}}
    (config.cache_path() / "importtime.json").write_text(json.dumps(cache))
    before = environment_stamp(config)
    (site / "newpkg").mkdir()  # "pip install newpkg"
    assert environment_stamp(config) != before


def test_a_changed_profile_misses_the_memo(project: Path, monkeypatch: pytest.MonkeyPatch):
    from advisor.evidence.profile import Evidence

    profile = project / "prof.json"
    profile.write_text("{}")
    _scan(project, evidence=Evidence(sources=[str(profile)]))
    calls = _collects(monkeypatch)
    _scan(project, evidence=Evidence(sources=[str(profile)]))
    assert calls == []
    profile.write_text('{"changed": true}')
    _scan(project, evidence=Evidence(sources=[str(profile)]))
    assert calls == [1]


def test_a_memo_hit_does_not_even_load_the_result_cache(project: Path, monkeypatch: pytest.MonkeyPatch):
    first = _scan(project)
    import advisor.engine.cache

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the result cache was loaded on a memo hit")

    monkeypatch.setattr(advisor.engine.cache.ResultCache, "__init__", refuse)
    second = _scan(project)
    assert second.findings == first.findings and second.errors == first.errors
    assert second.files == first.files == 2 and second.cached == 2


def test_a_memo_hit_still_offers_the_project_and_the_dropped_findings(project: Path, monkeypatch: pytest.MonkeyPatch):
    """``advisor fix`` explains what lazy-imports' refine dropped, and why, from
    the scan's report as it is: a remembered answer must carry the dropped
    findings and build the same project model on demand (no memo switch)."""
    (project / "demo" / "__init__.py").write_text("")
    (project / "demo" / "a.py").write_text("import asyncio\n\n\ndef g(c):\n    return asyncio.run(c)\n")
    (project / "demo" / "c.py").write_text("from demo.a import asyncio\n\nX = asyncio.sleep\n")
    first = _scan(project)
    calls = _collects(monkeypatch)
    second = _scan(project)
    assert calls == [], "the memo should have answered"
    assert second.dropped == first.dropped
    assert "demo/a.py" in [f.path for f in first.dropped]  # another module imports `asyncio` from it
    fresh, remembered = first.project(), second.project()
    assert fresh is not None and remembered is not None
    assert sorted(f.path for f in remembered.files) == sorted(f.path for f in fresh.files)
    assert remembered.facts_of("lazy-imports") and len(remembered.facts_of("lazy-imports")) == len(fresh.facts_of("lazy-imports"))
    assert remembered.import_graph == fresh.import_graph


def test_a_second_fix_still_explains_what_it_left_alone(project: Path):
    """``advisor fix --diff`` then ``advisor fix``: the second run's scan is
    unchanged, and a remembered answer used to leave its "left alone" list empty."""
    from advisor.fix.runner import FixRequest, run_fix

    (project / "demo" / "__init__.py").write_text("")
    (project / "demo" / "a.py").write_text("import asyncio\n\n\ndef g(c):\n    return asyncio.run(c)\n")
    (project / "demo" / "c.py").write_text("from demo.a import asyncio\n\nX = asyncio.sleep\n")
    reasons = []
    for _ in range(2):
        report = run_fix(FixRequest(paths=[project / "demo"], write=False), load_config(project))
        reasons.append([(item.path, item.reason) for item in report.left_alone])
    used = "used while the module is imported (module-level code, a decorator, base class, default value or class body)"
    assert reasons[0] == reasons[1] == [
        ("demo/a.py", "`asyncio` is imported from this module at import time by demo/c.py: it is loaded anyway"),
        ("demo/c.py", used)]  # it loads asyncio (through demo.a), used at import
