"""Static ranking's file outlines: made by the workers and kept in the result
cache, so a rescan does not parse every file again in the main process; and
the bytecode reader that replaced ``dis`` gives the same names."""

from __future__ import annotations

import dis
import pickle
from pathlib import Path

import pytest

from advisor.rank.callgraph import build_project_graph
from advisor.rank.outline import _loaded_names, index_file

REPO = Path(__file__).resolve().parent.parent


def _dis_names(code: object) -> set[str]:
    return {i.argval for i in dis.get_instructions(code)  # type: ignore[arg-type]
            if isinstance(i.argval, str) and i.opname.startswith(("LOAD_", "IMPORT_")) and i.opname != "LOAD_CONST"}


def _code_objects(path: Path) -> list[object]:
    found, todo = [], [compile(path.read_text(encoding="utf-8"), str(path), "exec")]
    while todo:
        code = todo.pop()
        found.append(code)
        todo.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return found


def test_bytecode_reader_matches_dis_on_our_own_code():
    codes = [c for p in sorted((REPO / "advisor").rglob("*.py")) + sorted((REPO / "rules").glob("*.py"))
             for c in _code_objects(p)]
    assert len(codes) > 500
    mismatched = [c for c in codes if _loaded_names(c) != _dis_names(c)]
    assert mismatched == []


def _project(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pkg"\n[project.scripts]\npkg = "pkg.cli:main"\n')
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("from pkg.jobs import run\n\n\ndef main():\n    return run([1, 2])\n")
    (pkg / "jobs.py").write_text(
        "def run(items):\n    out = ''\n    for item in items:\n        out += str(item)\n    return out\n\n\n"
        "def orphan(items):\n    out = ''\n    for item in items:\n        out += str(item)\n    return out\n")
    return pkg


def test_graph_uses_outlines_instead_of_reading_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    pkg = _project(tmp_path)
    files = sorted(pkg.glob("*.py"))
    from_disk = build_project_graph(files, tmp_path)
    expected = {node: from_disk.reached_by(node) for node in ("pkg.cli:main", "pkg.jobs:run", "pkg.jobs:orphan")}
    outlines = {str(p.resolve()): pickle.loads(pickle.dumps(index_file(p).outline())) for p in files}  # type: ignore[union-attr]
    assert all(o.source == "" for o in outlines.values())  # the cache holds no source text
    monkeypatch.setattr("advisor.rank.callgraph.index_file", lambda *a, **k: pytest.fail("read a file it had an outline for"))
    from_outlines = build_project_graph(files, tmp_path, outlines)
    assert {node: from_outlines.reached_by(node) for node in expected} == expected
    assert from_outlines.reached_by("pkg.jobs:run") == "console script `pkg`"
    assert from_outlines.reached_by("pkg.jobs:orphan") is None
    jobs = from_outlines.file(pkg / "jobs.py")
    assert jobs is not None and jobs.loop_depth(4, "run") == 1  # the text is read again only when needed


def test_scan_results_carry_outlines_only_when_ranking_needs_them(tmp_path: Path):
    from advisor.config import load_config
    from advisor.engine.scan import scan

    pkg = _project(tmp_path)
    config = load_config(tmp_path)
    report = scan([pkg], config, jobs=1, use_cache=True)
    reasons = {f.reason for f in report.findings if f.rule == "concat-in-loop"}
    assert any("console script `pkg`" in r for r in reasons)
    assert any("not reachable from an entry point" in r for r in reasons), reasons
    from advisor.engine.cache import ResultCache

    cache_files = list(config.cache_path().glob("results-*.pickle"))
    assert cache_files
    entries = pickle.loads(cache_files[0].read_bytes())
    outlined = {Path(path).name for path, entry in entries.items() if entry.result.outline is not None}
    assert {"cli.py", "jobs.py"} <= outlined
    assert ResultCache  # imported for the pickle's classes

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pkg"\n')  # no console script now
    config = load_config(tmp_path)
    (pkg / "cli.py").write_text("from pkg.jobs import run\n\n\ndef main():\n    return run([3])\n")
    scan([pkg], config, jobs=1, use_cache=True)
    entries = pickle.loads(next(config.cache_path().glob("results-*.pickle")).read_bytes())
    assert entries[str(pkg / "cli.py")].result.outline is None  # re-analysed, and no entry point: not outlined
