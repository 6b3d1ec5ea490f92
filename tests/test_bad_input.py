"""Never crash, never lose a byte: ``scan`` and ``fix`` on a generated corpus
of bad and odd input (see bad_corpus.py for every kind of file).

The CLI runs in a subprocess, with a hook that deletes two files between
discovery and reading. Root reads every file whatever its mode, so as root
the CLI runs without CAP_DAC_OVERRIDE (setpriv) to meet an unreadable file.

The generated large module is 0.25 MB by default so that CI stays fast;
``ADVISOR_BAD_INPUT_MB=5`` makes it the 5 MB of issue 8 (and raises the
per-file time limit to match: a 5 MB module takes minutes to analyse).
"""

from __future__ import annotations

import hashlib
import json
import os
import py_compile
import re
import shutil
import stat
import subprocess
import sys
import tokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bad_corpus import HOOK, Corpus, build_corpus

HUGE_MB = float(os.environ.get("ADVISOR_BAD_INPUT_MB", "0.25"))
#: Alternatives where the outcome depends on libcst: a nesting bomb may crash
#: the worker (SIGSEGV) or, if analysis pre-checks nesting, be a parse error.
NESTING_BOMBS = {"deep_parens.py", "deep_brackets.py"}


@dataclass
class Run:
    corpus: Corpus
    result: subprocess.CompletedProcess[str]
    before: dict[str, tuple[str, int]]  # relative path -> (content digest or link target, mode)


#: Root reads every file whatever its mode; without these two capabilities it
#: obeys file modes like anyone else (and still reaches an interpreter under /root).
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]
PROBE = "import sys\ntry:\n    open(sys.argv[1], 'rb')\nexcept PermissionError:\n    sys.exit(0)\nsys.exit(1)\n"


def _runner(scratch: Path) -> tuple[list[str], str]:
    """A command prefix under which a mode-000 file really is unreadable."""
    if os.geteuid() != 0:
        return [], ""
    if shutil.which("setpriv") is None:
        return [], "running as root without setpriv(1): cannot make a file unreadable to the scan"
    locked = scratch / "locked"
    locked.write_bytes(b"x")
    locked.chmod(0)
    probe = subprocess.run([*NO_DAC, sys.executable, "-c", PROBE, str(locked)], capture_output=True, timeout=120)
    if probe.returncode != 0:
        return [], f"running as root and setpriv cannot drop CAP_DAC_OVERRIDE here: {probe.stderr[-300:]!r}"
    return NO_DAC, ""


def _fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    """Every entry under root (not .advisor): a file's digest, a link's target."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".advisor"]
        for name in [*dirnames, *filenames]:
            path = Path(dirpath, name)
            relative = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[relative] = ("-> " + os.readlink(path), 0)
            elif stat.S_ISREG(info.st_mode):
                found[relative] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.S_IMODE(info.st_mode))
            elif stat.S_ISDIR(info.st_mode):
                found[relative] = ("dir", stat.S_IMODE(info.st_mode))
    return found


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    command, problem = _runner(tmp_path_factory.mktemp("probe"))
    if problem:
        pytest.skip(problem)
    return command


def _run_on_corpus(command: list[str], prefix: list[str], base: Path) -> Run:
    corpus = build_corpus(base / "corpus", int(HUGE_MB * 1024 * 1024))
    timeout = 300 if HUGE_MB <= 1 else 1800
    # The package's modules are entry points of their own (no module imports them):
    # the startup model then lets `advisor fix` write them.
    entries = ", ".join(f'"import {p[:-3].replace("/", ".")}"' for p in corpus.good)
    corpus.write("pyproject.toml", f"[tool.advisor]\ntimeout = {timeout}\nentry-points = [{entries}]\n")
    (corpus.root / "tabs.py").chmod(0o640)  # fix must keep a file's mode
    before = _fingerprint(corpus.root)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        [*prefix, sys.executable, "-c", HOOK, *command], cwd=corpus.root, env=env,
        capture_output=True, text=True, timeout=timeout * 3,
    )
    return Run(corpus, result, before)


@pytest.fixture(scope="module")
def scanned(prefix: list[str], tmp_path_factory: pytest.TempPathFactory) -> Run:
    command = ["scan", "--no-measure", "--no-cache", "--format", "json", "--jobs", "2"]
    return _run_on_corpus(command, prefix, tmp_path_factory.mktemp("scan"))


@pytest.fixture(scope="module")
def fixed(prefix: list[str], tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run_on_corpus(["fix", "--no-measure", "--jobs", "2"], prefix, tmp_path_factory.mktemp("fix"))


def _report(run: Run) -> dict:
    assert run.result.stdout, run.result.stderr
    return json.loads(run.result.stdout)


def test_scan_finishes_and_writes_the_whole_report(scanned: Run):
    # 2: some files were not analysed (documented); never a crash.
    assert scanned.result.returncode == 2, scanned.result.stderr
    assert "Traceback" not in scanned.result.stderr and "internal error" not in scanned.result.stderr
    report = _report(scanned)
    assert report["summary"]["errors"] == len(report["errors"])
    for name in scanned.corpus.vanishing:
        assert not (scanned.corpus.root / name).exists(), "the hook did not run"


def test_every_bad_file_is_one_error_with_its_reason(scanned: Run):
    report = _report(scanned)
    counts = Counter(e["path"] for e in report["errors"])
    assert sorted(counts) == sorted(scanned.corpus.bad), report["errors"]
    assert [p for p, n in counts.items() if n != 1] == []
    for error in report["errors"]:
        kind, reason = scanned.corpus.bad[error["path"]]
        if error["path"] in NESTING_BOMBS:
            crashed = error["kind"] == "crash" and "SIGSEGV" in error["message"]
            assert crashed or (error["kind"] == "parse" and "nested" in error["message"]), error
            continue
        assert error["kind"] == kind, error
        assert reason.lower() in error["message"].lower(), error


def test_odd_but_valid_files_are_scanned(scanned: Run):
    report = _report(scanned)
    flagged = Counter(f["path"] for f in report["findings"] if f["rule"] == "lazy-imports")
    expected = scanned.corpus.odd + scanned.corpus.good
    assert sorted(flagged) == sorted(expected)
    assert all(flagged[p] == 1 for p in expected)
    errored = {e["path"] for e in report["errors"]}
    assert errored.isdisjoint([*expected, *scanned.corpus.clean])
    assert all(f["line"] == 1 or f["path"] in ("latin1_cookie.py", "cp1252_cookie.py", "bom_utf8_cookie.py")
               for f in report["findings"])


def _newlines(data: bytes) -> set[bytes]:
    return set(re.findall(rb"\r\n|\r|\n", data))


def _changed(run: Run) -> set[str]:
    after = _fingerprint(run.corpus.root)
    return {p for p, v in run.before.items() if p in after and after[p] != v}


def test_fix_leaves_every_file_it_cannot_handle_unchanged(fixed: Run):
    assert fixed.result.returncode == 2, fixed.result.stdout + fixed.result.stderr
    assert "Traceback" not in fixed.result.stderr and "internal error" not in fixed.result.stderr
    after = _fingerprint(fixed.corpus.root)
    corpus = fixed.corpus
    fixable = set(corpus.odd + corpus.good) - set(corpus.unfixable)
    assert _changed(fixed) == fixable
    gone = set(fixed.before) - set(after)
    assert gone == set(corpus.vanishing)
    assert set(after) - set(fixed.before) == set(), "stray files (temp files of an atomic write?)"
    for name in fixable:
        assert re.search(rf"^{re.escape(name)}:\d+: fixed", fixed.result.stdout, re.M), name
        assert not re.search(rf"^{re.escape(name)}:\d+: left alone", fixed.result.stdout, re.M), \
            f"{name}: a fixed import reported as left alone"
    for name in corpus.unfixable:
        assert re.search(rf"^{re.escape(name)}:\d+: .*byte for byte", fixed.result.stdout, re.M), fixed.result.stdout


def test_fixed_files_compile_and_keep_encoding_bom_newlines_and_mode(fixed: Run, tmp_path: Path):
    corpus = fixed.corpus
    for name in set(corpus.odd + corpus.good) - set(corpus.unfixable):
        path = corpus.root / name
        new, old = path.read_bytes(), corpus.data[name]
        py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)
        assert tokenize.detect_encoding(iter(new.splitlines(True)).__next__)[0] == \
            tokenize.detect_encoding(iter(old.splitlines(True)).__next__)[0], name
        assert new.startswith(b"\xef\xbb\xbf") == old.startswith(b"\xef\xbb\xbf"), name
        assert _newlines(new) <= _newlines(old), name
        assert new.endswith((b"\n", b"\r")) == old.endswith((b"\n", b"\r")), name
        assert b"import asyncio" in new and not new.lstrip(b"\xef\xbb\xbf").startswith(b"import asyncio")
        for line in re.split(rb"\r\n|\r|\n", old):  # every other line survives, byte for byte
            if line.strip() and b"import asyncio" not in line:
                assert line in new, (name, line)
        assert fixed.before[name][1] == stat.S_IMODE(path.stat().st_mode), name


# Files CPython rejects but libcst parses: the scan analyses them silently.
PYTHON_REJECTS = {
    "py2_except.py": "try:\n    pass\nexcept ValueError, e:\n    pass\n",
    "nonascii_bytes.py": "X = b'caf\u00e9'\n",
    "return_outside.py": "return 1\n",
}


def test_code_python_rejects_is_reported(tmp_path: Path):
    """The worker asks CPython's parser first: what it rejects is a parse error,
    even where libcst would accept it. ``return`` at module level passes the
    parser (the compiler rejects it later): a known gap, checked as such."""
    for name, text in PYTHON_REJECTS.items():
        (tmp_path / name).write_text(text)
    result = subprocess.run([sys.executable, "-m", "advisor", "scan", "--no-measure", "--no-cache", "--format", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    errors = {e["path"]: (e["kind"], e["message"]) for e in json.loads(result.stdout)["errors"]}
    assert errors["py2_except.py"] == ("parse", "syntax error at line 3, column 7: multiple exception types must be parenthesized")
    assert errors["nonascii_bytes.py"][0] == "parse" and "ASCII" in errors["nonascii_bytes.py"][1]
    assert "return_outside.py" not in errors  # the known gap


def test_newer_syntax_is_judged_by_libcst_when_the_target_is_newer(tmp_path: Path):
    """`type X = ...` (3.12) read by an older interpreter: with target-version 3.12 it is
    analysed, not called a syntax error."""
    if sys.version_info >= (3, 12):
        pytest.skip("this interpreter parses 3.12 syntax itself")
    (tmp_path / "pyproject.toml").write_text('[tool.advisor]\ntarget-version = "3.12"\n')
    (tmp_path / "new.py").write_text("type Pair = tuple[int, int]\n\n\ndef f(xs):\n    s = ''\n    for x in xs:\n        s += str(x)\n    return s\n")
    result = subprocess.run([sys.executable, "-m", "advisor", "scan", "--no-measure", "--no-cache", "--format", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    assert report["errors"] == []
    (tmp_path / "pyproject.toml").write_text('[tool.advisor]\ntarget-version = "3.11"\n')
    result = subprocess.run([sys.executable, "-m", "advisor", "scan", "--no-measure", "--no-cache", "--format", "json"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert [e["kind"] for e in json.loads(result.stdout)["errors"]] == ["parse"]
