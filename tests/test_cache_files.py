"""The caches are data: JSON in the user's cache directory, versioned and
checked on load. A truncated, corrupt, foreign, other-version or hostile
cache file is ignored (a notice on stderr, routine ones only with
--verbose) and rebuilt; the scan's answer is the same as without it."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

from conftest import run_advisor

COSTLY = '''\
import asyncio


def run(coro):
    return asyncio.run(coro)
'''


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\n', "utf-8")
    (root / "pkg" / "__init__.py").write_text("", "utf-8")
    (root / "pkg" / "cli.py").write_text(COSTLY, "utf-8")
    return root


def _cache_dir(root: Path, env: dict[str, str]) -> Path:
    from advisor.cache_files import project_cache_dir

    os.environ["ADVISOR_CACHE_DIR"], saved = env["ADVISOR_CACHE_DIR"], os.environ.get("ADVISOR_CACHE_DIR")
    try:
        return project_cache_dir(root)
    finally:
        if saved is not None:
            os.environ["ADVISOR_CACHE_DIR"] = saved


def _scan(root: Path, env: dict[str, str], *extra: str) -> tuple[int, list[tuple[str, str]], str]:
    done = run_advisor("scan", ".", "--format", "json", "--no-measure", *extra, cwd=root, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    return done.returncode, [(f["path"], f["data"]["statement"]) for f in report["findings"]], done.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ADVISOR_CACHE_DIR": str(tmp_path / "user-cache")}


def test_caches_live_in_the_user_cache_dir_keyed_by_project(tmp_path: Path, env: dict[str, str]) -> None:
    root = _project(tmp_path)
    code, findings, _ = _scan(root, env)
    assert code == 1 and findings == [("pkg/cli.py", "import asyncio")]
    assert not (root / ".advisor").exists()  # nothing written into the tree
    folder = _cache_dir(root, env)
    assert folder.parent == tmp_path / "user-cache" and folder.name.startswith("proj-")
    names = sorted(p.name for p in folder.iterdir())
    assert "last-scan.json" in names and any(n.startswith("results-") and n.endswith(".json") for n in names)
    for name in names:
        json.loads((folder / name).read_bytes())  # every cache file is plain JSON
    other = _project(tmp_path / "elsewhere")
    _scan(other, env)
    assert _cache_dir(other, env) != folder  # one folder per project


def test_user_cache_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.cache_files import project_cache_dir, user_cache_root

    monkeypatch.delenv("ADVISOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_root() == tmp_path / "xdg" / "advisor"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache_root() == tmp_path / "home" / ".cache" / "advisor"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache_root() == tmp_path / "mine"
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert project_cache_dir(tmp_path / "link") == project_cache_dir(tmp_path / "real")  # keyed by the real path


class _Boom:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def _damage(kind: str, path: Path, marker: Path) -> None:
    """Replace a cache file by a damaged, foreign or hostile one."""
    original = path.read_bytes()
    document = json.loads(original)
    if kind == "truncated":
        path.write_bytes(original[: len(original) // 2])
    elif kind == "garbage":
        path.write_bytes(b"\x00\xff not json at all")
    elif kind == "pickle":
        path.write_bytes(pickle.dumps(_Boom(marker)))
    elif kind == "other-version":
        path.write_text(json.dumps({**document, "format": 999}), "utf-8")
    elif kind == "wrong-kind":
        path.write_text(json.dumps({**document, "kind": "something-else"}), "utf-8")
    elif kind == "not-an-object":
        path.write_text("[1, 2, 3]", "utf-8")
    elif kind == "hostile-shape":  # right kind and version, everything inside of the wrong type
        path.write_text(json.dumps(_hostile(document)), "utf-8")
    elif kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000, "utf-8")


def _hostile(document: dict[str, object]) -> dict[str, object]:
    out = dict(document)
    for key, value in document.items():
        if key == "entries" and isinstance(value, dict):
            out[key] = {k: ["x", {"__reduce__": "os.system"}, None, 7] if not k.startswith("__") else 5
                        for k in value} | {"extra": {"statement": 1}}
        elif key in ("findings", "errors"):
            out[key] = [[1, 2, 3], {"rule": None}]
        elif key == "notices":
            out[key] = [{"x": 1}]
    return out


KINDS = ["truncated", "garbage", "pickle", "other-version", "wrong-kind", "not-an-object", "hostile-shape", "deep"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_or_hostile_cache_is_ignored_and_rebuilt(tmp_path: Path, env: dict[str, str], kind: str) -> None:
    root = _project(tmp_path)
    expected = _scan(root, env)[:2]
    _scan(root, env, "--measure-project")  # (a second settings key: a second results file)
    (root / "pkg" / "cli.py").touch()  # the memo misses: the result cache answers
    marker = tmp_path / "marker"
    folder = _cache_dir(root, env)
    files = sorted(folder.iterdir())
    assert len(files) >= 3
    for path in files:
        _damage(kind, path, marker)
    code, findings, stderr = _scan(root, env)
    assert (code, findings) == expected
    assert not marker.exists()
    if kind in ("other-version",):
        assert stderr == ""  # routine: said only with --verbose
    else:
        assert "advisor: ignored" in stderr and "rebuilt" in stderr, stderr
        assert len(stderr.splitlines()) <= len(files)  # one line per file at most
    assert _scan(root, env)[:2] == expected  # rebuilt: the next scan answers from it
    assert json.loads((folder / "last-scan.json").read_bytes())["kind"] == "scan-memo"


def test_other_version_notice_with_verbose(tmp_path: Path, env: dict[str, str]) -> None:
    root = _project(tmp_path)
    _scan(root, env)
    memo = _cache_dir(root, env) / "last-scan.json"
    _damage("other-version", memo, tmp_path / "marker")
    _, _, stderr = _scan(root, env, "--verbose")
    assert "written by another advisor version" in stderr


def test_a_pickle_in_the_old_in_tree_location_is_never_read(tmp_path: Path, env: dict[str, str]) -> None:
    root = _project(tmp_path)
    marker = tmp_path / "marker"
    cache = root / ".advisor" / "cache"
    cache.mkdir(parents=True)
    for name in ("last-scan.pickle", "results-0.pickle"):
        (cache / name).write_bytes(pickle.dumps(_Boom(marker)))
    code, findings, _ = _scan(root, env)
    assert code == 1 and findings == [("pkg/cli.py", "import asyncio")]
    assert not marker.exists()


def test_cache_dir_inside_the_tree_is_refused_outside_is_used(tmp_path: Path, env: dict[str, str]) -> None:
    root = _project(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "proj"\n[tool.advisor]\ncache-dir = ".advisor/cache"\n')
    _, _, stderr = _scan(root, env)
    assert "not using cache-dir '.advisor/cache'" in stderr and "inside the scanned tree" in stderr
    assert not (root / ".advisor").exists()
    outside = tmp_path / "outside-cache"
    (root / "pyproject.toml").write_text(f'[project]\nname = "proj"\n[tool.advisor]\ncache-dir = "{outside}"\n')
    _, _, stderr = _scan(root, env)
    assert stderr == ""
    assert (outside / "last-scan.json").is_file()


def test_the_import_time_cache_is_checked_entry_by_entry(tmp_path: Path) -> None:
    from advisor.evidence.importtime import CACHE_FORMAT, ImportTimer

    cache = tmp_path / "importtime.json"
    entries = {
        "import json": {"version": "stdlib-3", "ok": True, "modules": {"json": 100}},
        "import bad": {"version": "x", "ok": True, "modules": {"bad": "a lot"}},
        "import worse": ["not", "an", "entry"],
        "__probe__": {"versions": {"json": "stdlib-3"}, "paths": {"/": "yesterday"}},
    }
    cache.write_text(json.dumps({"format": CACHE_FORMAT, "python": "py", "entries": entries}))
    timer = ImportTimer("py", cwd=tmp_path, cache_file=cache)
    assert timer.closure("import json", "stdlib-3") == {"json": 100}
    assert timer.closure("import bad", "x") is None
    assert set(timer._cache) == {"import json"}  # noqa: SLF001 - what survived the check
