"""Every supported evidence format, produced by the real tool in the test,
loads into the same function-level model and maps to the same function."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.evidence.profile import ProfileError, load_evidence, load_file
from advisor.rank.score import heat_of

PROGRAM = '''\
import functools


def traced(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)
    return wrapper


@traced
@traced
def busy(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def main():
    for _ in range(6):
        busy(300_000)


if __name__ == "__main__":
    main()
'''
#: `busy` is decorated: profilers name its first decorator's line, not the def.
BUSY_FIRST_LINE = 11


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("prog")
    path = directory / "prog.py"
    path.write_text(PROGRAM)
    return path


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def pyinstrument(program: Path, renderer: str, out: Path) -> Path:
    run(sys.executable, "-m", "pyinstrument", "-r", renderer, "-o", str(out), str(program), cwd=program.parent)
    return out


def assert_busy_is_hot(path: Path, program: Path, *, first_line: int | None = BUSY_FIRST_LINE) -> None:
    profile = load_file(path)
    assert not isinstance(profile, list)
    busy = [f for f in profile.functions if f.path == str(program.resolve()) and f.function.endswith("busy")]
    assert busy, [f.function for f in profile.functions if not f.library]
    assert busy[0].total_s > 0 and profile.total_s >= busy[0].total_s
    if first_line is not None:
        assert busy[0].line == first_line
    heat = heat_of(load_evidence([path]))
    node = (str(program.resolve()), "busy")
    assert heat.total[node] > 0.5 * heat.total_s  # the sampled time lands in busy()'s line range
    assert heat.total[node] <= heat.total[(str(program.resolve()), "main")] + 1e-9


def test_pyinstrument_session(program: Path, tmp_path: Path) -> None:
    assert_busy_is_hot(pyinstrument(program, "pyisession", tmp_path / "run.pyisession"), program)


def test_pyinstrument_json_render(program: Path, tmp_path: Path) -> None:
    path = pyinstrument(program, "json", tmp_path / "run.json")
    assert load_file(path).format == "pyinstrument-json"  # type: ignore[union-attr]
    assert_busy_is_hot(path, program)


def test_speedscope_from_pyinstrument(program: Path, tmp_path: Path) -> None:
    path = pyinstrument(program, "speedscope", tmp_path / "run.speedscope.json")
    assert load_file(path).format == "speedscope"  # type: ignore[union-attr]
    assert_busy_is_hot(path, program)


def test_speedscope_from_py_spy(program: Path, tmp_path: Path) -> None:
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not py_spy:
        pytest.skip("py-spy is not installed")
    out = tmp_path / "spy.json"
    result = subprocess.run([py_spy, "record", "-f", "speedscope", "-r", "250", "-o", str(out), "--", sys.executable, str(program)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not out.is_file():
        pytest.skip(f"py-spy cannot sample here (needs ptrace): {result.stderr.strip()[-200:]}")
    # py-spy names the line being executed, not the first line: map by line range.
    assert_busy_is_hot(out, program, first_line=None)


def test_cprofile_pstats(program: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.prof"
    run(sys.executable, "-m", "cProfile", "-o", str(out), str(program), cwd=program.parent)
    profile = load_file(out)
    assert not isinstance(profile, list) and profile.format == "pstats"
    busy = next(f for f in profile.functions if f.function == "busy" and f.path == str(program.resolve()))
    assert busy.calls == 6 and busy.line == BUSY_FIRST_LINE
    assert_busy_is_hot(out, program)


def test_importtime_log(tmp_path: Path) -> None:
    result = run(sys.executable, "-X", "importtime", "-c", "import json, csv", cwd=tmp_path)
    log = tmp_path / "startup.txt"
    log.write_text(result.stderr)
    records = load_file(log)
    assert isinstance(records, list) and records
    evidence = load_evidence([log])
    assert not evidence.has_samples
    top = {r.module for r in evidence.top_imports(10)}
    assert {"json", "csv"} <= top
    assert "site" not in top and "encodings" not in top  # interpreter start-up is left out


def test_format_is_sniffed_not_taken_from_the_extension(program: Path, tmp_path: Path) -> None:
    session = pyinstrument(program, "pyisession", tmp_path / "a.pyisession")
    disguised = tmp_path / "profile.dat"
    disguised.write_bytes(session.read_bytes())
    assert load_file(disguised).format == "pyinstrument-session"  # type: ignore[union-attr]
    out = tmp_path / "stats.json"  # a pstats dump named like JSON
    run(sys.executable, "-m", "cProfile", "-o", str(out), str(program), cwd=program.parent)
    assert load_file(out).format == "pstats"  # type: ignore[union-attr]


@pytest.mark.parametrize("content", [b"", b"hello\n", b'{"a": 1}', b"[1, 2]", b"\x00\x01binary"])
def test_unknown_content_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.pyisession"
    path.write_bytes(content)
    with pytest.raises(ProfileError, match="x.pyisession"):
        load_file(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_file(tmp_path / "nope.pyisession")
