"""Closures from one fork tree equal closures from one fresh interpreter per
module (the sets exactly; times are noise), at a fraction of the runs, and a
module that hangs or kills its process costs one module, not the tree."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.evidence.closure_tree import can_fork, measure_tree, tree_nodes
from advisor.evidence.closures import ClosureStore
from advisor.evidence.self_times import RUNS

pytestmark = pytest.mark.skipif(not can_fork(), reason="fork trees need os.fork")

#: Stdlib modules with shared packages (email.*, xml.*) and a plain module.
MODULES = ["json", "email.mime.text", "email.mime.multipart", "email.utils", "xml.dom.minidom", "xml.etree.ElementTree"]


def counting_python(tmp_path: Path, python: str = sys.executable) -> tuple[str, Path]:
    """A wrapper interpreter that logs each start, to count subprocesses."""
    log = tmp_path / "runs.log"
    wrapper = tmp_path / "python"
    wrapper.write_text(f"#!/bin/sh\necho run >> '{log}'\nexec '{python}' \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper), log


def test_nodes_are_every_package_prefix_parents_first() -> None:
    assert tree_nodes(["a.b.c", "a.d", "e"]) == ["a", "e", "a.b", "a.d", "a.b.c"]


def test_tree_closures_equal_fresh_interpreter_closures(tmp_path: Path) -> None:
    python, log = counting_python(tmp_path)
    alone = ClosureStore(python, None, jobs=1)
    single = {m: alone._run(m) for m in MODULES}
    assert log.read_text().count("run") == len(MODULES)
    tree = measure_tree(python, MODULES, 60)
    assert log.read_text().count("run") == len(MODULES) + 1
    for module in MODULES:
        expected = single[module]
        assert expected["ok"] and tree[module].ok, module
        assert set(tree[module].modules) == set(expected["modules"]), module  # type: ignore[arg-type]
        assert list(tree[module].submodules) == expected["submodules"], module
    # the package prefixes were measured on the way, with their own closures
    assert tree["email"].ok and set(tree["email"].modules) < set(tree["email.mime.text"].modules)


def test_a_failed_package_fails_its_submodules_with_its_error(tmp_path: Path) -> None:
    tree = measure_tree(sys.executable, ["nosuchpkg.sub", "json"], 60)
    assert tree["nosuchpkg"].error == "ModuleNotFoundError: No module named 'nosuchpkg'"
    assert tree["nosuchpkg.sub"].error == tree["nosuchpkg"].error and tree["json"].ok


def test_optional_names_are_measured_only_when_they_are_submodules(tmp_path: Path) -> None:
    """`from email.mime import text, nosuch`: `text` is a submodule, `nosuch` is not
    (no run fails for it, no failure is reported, and the cache answers next time)."""
    python, log = counting_python(tmp_path)
    cache = tmp_path / "closures.json"
    optional = {"email.mime.text": "stdlib", "email.mime.nosuch": "stdlib"}
    found, failed = ClosureStore(python, cache, jobs=1).closures({"email.mime": "stdlib"}, optional=optional)
    assert set(found) == {"email.mime", "email.mime.text"} and failed == []
    assert "email.mime.text" in found["email.mime.text"].modules
    assert log.read_text().count("run") == 1 + RUNS  # the tree, then the union runs for self times
    again = ClosureStore(python, cache, jobs=1)
    assert again.closures({"email.mime": "stdlib"}, optional=optional)[0] == found and again.runs == 0


def test_self_times_are_the_median_of_the_union_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tree says which modules a closure holds; plain interpreters that import
    every measured module say what each costs: per module, the median run."""
    from advisor.evidence import self_times as union

    logs = iter([f"import time: {us} | {us} | json\nimport time: 50 | 50 | json.decoder" for us in (900, 300, 600)])
    monkeypatch.setattr(union, "isolated_stderr", lambda argv, timeout: next(logs))
    times, runs = union.self_times(sys.executable, ["json"], 60, runs=3, jobs=1)
    assert times == {"json": 600, "json.decoder": 50} and runs == 3
    monkeypatch.undo()

    python, log = counting_python(tmp_path)
    store = ClosureStore(python, tmp_path / "closures.json", jobs=1)
    found, _ = store.closures({"json": "stdlib", "email.utils": "stdlib"})
    assert log.read_text().count("run") == 2 + RUNS and store.runs == 2 + RUNS  # probe, tree, union runs
    assert store._entries["json"]["runs"] == RUNS and set(found["json"].modules) >= {"json", "json.decoder"}
    again = ClosureStore(python, tmp_path / "closures.json", jobs=1)
    assert again.closures({"json": "stdlib", "email.utils": "stdlib"})[0] == found and again.runs == 0


@pytest.fixture(scope="module")
def hostile_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A virtualenv whose site-packages has a module that hangs when imported
    and one that ends its process."""
    root = tmp_path_factory.mktemp("hostile-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "hangs.py").write_text("import time\ntime.sleep(600)\n")
    (Path(site) / "ends_process.py").write_text("import os\nos._exit(3)\n")
    return str(python)


def test_a_module_that_hangs_times_out_alone(hostile_python: str) -> None:
    tree = measure_tree(hostile_python, ["hangs", "json"], timeout=2)
    assert tree["hangs"].error == "timed out after 2 s" and tree["json"].ok


def test_a_module_that_ends_its_process_is_measured_alone(hostile_python: str, tmp_path: Path) -> None:
    """The tree cannot tell (no status): a fresh interpreter of its own says why."""
    tree = measure_tree(hostile_python, ["ends_process", "json"], timeout=30)
    assert "ends_process" not in tree and tree["json"].ok
    store = ClosureStore(hostile_python, None, jobs=1)
    found, failed = store.closures({"ends_process": "1", "json": "stdlib"})
    assert set(found) == {"json"} and [(f.module, f.reason) for f in failed] == [("ends_process", "exit 3")]
    assert store.runs == 3 + RUNS  # the probe, the tree, the one module alone, the union runs


def site_packages(tmp_path: Path, files: dict[str, str]) -> dict[str, tuple[str | None, list[str]]]:
    """Write ``files`` under a fake site-packages; the probe's answer for them."""
    site = tmp_path / "lib" / "site-packages"
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    roots: dict[str, tuple[str | None, list[str]]] = {}
    for top in {name.split("/")[0] for name in files}:
        package = site / top
        if package.is_dir():
            roots[top] = (str(package / "__init__.py"), [str(package)])
        else:
            roots[top.removesuffix(".py")] = (str(site / top), [])
    return roots


def test_chains_follow_unconditional_top_level_imports_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.evidence import import_chains as chains_module
    from advisor.evidence.import_chains import import_chains

    monkeypatch.setattr(chains_module, "_MIN_REACH", 1)  # these small packages count as big

    roots = site_packages(tmp_path, {
        "shared/__init__.py": "",
        "shared/core.py": '"""Example:\nimport other\n"""\nimport shared\n',
        "app/__init__.py": "from .views import render\n",
        "app/views.py": "from shared import core, Thing\n\ndef render():\n    import late\n",
        "cond.py": "try:\n    import shared.core\nexcept ImportError:\n    pass\nif True:\n    import app\n",
        "cyc_a.py": "import cyc_b\n",
        "cyc_b.py": "import cyc_a\n",
    })
    chains = import_chains(["shared.core", "app", "app.views", "cond", "cyc_a", "cyc_b", "shared.Thing", "json"], roots)
    # app.views imports shared.core (another installed package): it forks from there
    assert chains["app.views"] == ["shared", "shared.core", "app", "app.views"]
    # app's own __init__ imports .views, so importing app loads shared.core too
    assert chains["app"] == ["shared", "shared.core", "app"]
    assert chains["shared.core"] == ["shared", "shared.core"]  # a docstring's `import other` is text
    assert chains["cond"] == ["cond"]  # try/if: maybe not loaded, so no anchor
    assert chains["cyc_a"] == ["cyc_a"] and chains["cyc_b"] == ["cyc_b"]  # each loads the other: no order to trust
    assert chains["shared.Thing"] == ["shared", "shared.Thing"]  # a name, not a module: never an anchor


def test_chained_trees_equal_fresh_interpreters_on_packages_that_share_imports(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """p1 and p2 both import `base` (which imports json) at their top level:
    the tree imports base once and forks both from it; each closure is still
    exactly what a fresh interpreter loads, json and base included."""
    root = tmp_path_factory.mktemp("chains-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = str(root / "bin" / "python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "base").mkdir()
    (site / "base" / "__init__.py").write_text("import json\n")
    (site / "p1.py").write_text("import base\nimport email.utils\n")
    (site / "p2.py").write_text("from base import json as j\ntry:\n    import csv\nexcept ImportError:\n    pass\n")
    modules = ["base", "p1", "p2", "json"]
    store = ClosureStore(python, None, jobs=1)
    chains = store._chains(modules)
    assert chains["p1"] == ["json", "base", "p1"] and chains["p2"] == ["json", "base", "p2"]
    tree = measure_tree(python, modules, 60, chains=chains)
    for module in modules:
        alone = store._run(module)
        assert tree[module].ok and set(tree[module].modules) == set(alone["modules"]), module  # type: ignore[arg-type]
    assert "csv" in tree["p2"].modules and "email.utils" in tree["p1"].modules and "json" in tree["p1"].modules


def test_an_anchor_measured_in_another_slice_is_a_step_here(tmp_path: Path) -> None:
    """A chain may pass through a module this tree does not report (the other
    slice's): it is imported on the way, and only the asked modules come back."""
    chains = {"email.utils": ["json", "email", "email.utils"]}
    tree = measure_tree(sys.executable, ["email.utils"], 60, chains=chains)
    assert set(tree) == {"email", "email.utils"} and "json" in tree["email.utils"].modules
