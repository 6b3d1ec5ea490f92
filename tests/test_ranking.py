"""Ranking: hot findings above cold ones with a profile, static signals
without one; the fixture end to end with a profile recorded by `advisor profile`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from advisor.commands.profile import split_python_command
from advisor.errors import UsageError
from advisor.evidence.profile import Evidence, FrameRef, Profile
from advisor.findings import Finding, Impact, Span
from advisor.evidence.hot import deferral_threshold
from advisor.rank.score import rank_findings, runtime_total_ms
from conftest import FIXTURES, run_advisor

MODULE = '''\
import functools


def work(rows):
    total = 0
    for row in rows:
        total += row
    total += 1
    return total


def helper(x):
    return x


@functools.cache
def rare(rows):
    out = 0
    for row in rows:
        for cell in row:
            if cell:
                out += cell
            elif cell is None:
                out -= 1
    return out


if __name__ == "__main__":
    work([1])
'''


def finding(path: Path, line: int, rule: str = "concat-in-loop", kind: str = "runtime", **data: object) -> Finding:
    return Finding(rule, str(path), Span(line, 4, line, 10), "msg", Impact(kind=kind), data=dict(data))  # type: ignore[arg-type]


def evidence_for(path: Path, seconds: dict[str, float]) -> Evidence:
    """A hand-built profile: `main` calls each function for the given seconds.
    Frames carry the first decorator's line, as pyinstrument records them."""
    lines = {"work": 4, "helper": 12, "rare": 16}
    frames = [FrameRef(str(path), "<module>", 1)] + [FrameRef(str(path), name, lines[name]) for name in seconds]
    stacks = [((0, i), s) for i, s in enumerate(seconds.values(), start=1)]
    profile = Profile("hand-built", "test", frames, stacks, total_s=sum(seconds.values()))
    return Evidence(profiles=[profile])


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "mod.py"
    path.write_text(MODULE)
    return path


def test_hot_in_a_loop_outranks_hot_outside_and_cold(module: Path) -> None:
    """Without line-level times, a finding is placed by its function's share and
    claims no milliseconds: the function's time is not the finding's."""
    in_loop, outside, cold = finding(module, 7), finding(module, 8), finding(module, 22)
    ranked, notices = rank_findings([cold, outside, in_loop], evidence_for(module, {"work": 0.84, "helper": 0.16}), [module], None)
    by_line = {f.span.line: f for f in ranked}
    assert by_line[7].score > by_line[8].score > by_line[22].score >= 0
    assert by_line[7].reason == ("hot: in a function holding 84% of sampled time (mod.work(), in a loop (depth 1)); "
                                 "this profile has no line-level times")
    assert by_line[8].reason.startswith("hot: in a function holding 84% of sampled time (mod.work())")
    assert by_line[22].reason.startswith("cold: never sampled")
    assert by_line[7].impact.source == "profile" and by_line[7].impact.estimate_ms is None
    assert notices == ["ranked by 1 profile (1.00 s sampled): 2 of 3 run-time findings in sampled code"]


def test_decorated_function_is_found_by_its_first_decorator_line(module: Path) -> None:
    ranked, _ = rank_findings([finding(module, 22)], evidence_for(module, {"rare": 1.0}), [module], None)
    assert ranked[0].reason.startswith("hot: in a function holding 100% of sampled time (mod.rare(), in a loop (depth 2))")


def with_lines(evidence: Evidence, path: Path, lines: dict[int, float], exact: bool) -> Evidence:
    evidence.profiles[0].line_s = {(str(path), n): s for n, s in lines.items()}
    evidence.profiles[0].lines_exact = exact
    return evidence


def test_a_finding_gets_the_time_of_its_own_lines_not_its_function(module: Path) -> None:
    """The issue's case: a `not in` test given its whole function's ~136 ms."""
    evidence = with_lines(evidence_for(module, {"work": 0.84, "helper": 0.16}), module, {7: 0.05, 6: 0.7}, exact=True)
    ranked, _ = rank_findings([finding(module, 7), finding(module, 8)], evidence, [module], None)
    by_line = {f.span.line: f for f in ranked}
    assert by_line[7].impact.estimate_ms == pytest.approx(50.0)
    assert by_line[7].reason == ("hot: 5% of sampled time on its own lines, in a function holding 84% of sampled "
                                 "time (mod.work(), in a loop (depth 1))")
    assert by_line[8].impact.estimate_ms is None and by_line[8].reason.startswith("warm: its own lines were never sampled")
    assert by_line[7].score > by_line[8].score


def test_call_lines_only_claim_no_ms_for_bytecode(module: Path) -> None:
    """pyinstrument places only calls on lines: a line without a sampled call is unknown, not zero."""
    evidence = with_lines(evidence_for(module, {"work": 0.84, "helper": 0.16}), module, {6: 0.2}, exact=False)
    ranked, _ = rank_findings([finding(module, 7)], evidence, [module], None)
    assert ranked[0].impact.estimate_ms is None
    assert ranked[0].reason.endswith("its lines made no sampled call; the profiler cannot place bytecode time on lines")


def test_totals_count_overlapping_findings_once_and_never_exceed_the_profile(module: Path) -> None:
    evidence = with_lines(evidence_for(module, {"work": 0.84, "helper": 0.16}), module, {7: 0.6}, exact=True)
    twice = [finding(module, 7, rule="concat-in-loop"), finding(module, 7, rule="quadratic-membership")]
    ranked, _ = rank_findings(twice, evidence, [module], None)
    assert [f.impact.estimate_ms for f in ranked] == [pytest.approx(600.0)] * 2
    assert runtime_total_ms(ranked, evidence) == pytest.approx(600.0)
    evidence.profiles[0].line_s = {(str(module), 7): 5.0}  # inconsistent input: still capped
    ranked, _ = rank_findings(twice, evidence, [module], None)
    assert runtime_total_ms(ranked, evidence) <= evidence.total_s * 1000
    assert all(f.impact.estimate_ms <= evidence.total_s * 1000 for f in ranked)  # type: ignore[operator]


def test_a_profile_that_mostly_waited_says_so(module: Path) -> None:
    evidence = evidence_for(module, {"work": 0.84, "helper": 0.16})
    evidence.profiles[0].waiting_s = 0.7
    _, notices = rank_findings([finding(module, 7)], evidence, [module], None)
    assert any(n.startswith("the profiled thread waited 70% of the sampled time") for n in notices)
    evidence.profiles[0].waiting_s = 0.1
    _, notices = rank_findings([finding(module, 7)], evidence, [module], None)
    assert not any("waited" in n for n in notices)


def test_static_signals_without_a_profile(module: Path, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "m"\n')
    shallow, deep, unreached = finding(module, 7), finding(module, 22), finding(module, 13)
    ranked, notices = rank_findings([shallow, deep, unreached], None, [module], tmp_path)
    by_line = {f.span.line: f for f in ranked}
    assert "static signals" in notices[0]
    assert by_line[7].reason.startswith("static: reachable from `python ")  # the main block calls work()
    assert "loop depth 1" in by_line[7].reason and "complexity 2" in by_line[7].reason
    assert by_line[22].reason.startswith("static: not reachable from an entry point, loop depth 2, complexity 5")
    assert by_line[13].reason.startswith("static: not reachable")
    # Reachability outweighs depth; among unreached code, depth and complexity decide.
    assert by_line[7].score > by_line[22].score > by_line[13].score
    assert all(f.impact.estimate_ms is None for f in ranked)


def test_startup_findings_keep_their_measured_score(module: Path) -> None:
    startup = finding(module, 1, rule="other", kind="startup").with_(score=42.0, reason="saves ~47 ms at startup (importtime)")
    ranked, _ = rank_findings([startup], None, [module], None)
    assert ranked == [startup]


def test_deferral_threshold_follows_the_profile(module: Path) -> None:
    lazy = finding(module, 1, rule="lazy-imports", kind="startup", functions=["rare"])
    hot_user = finding(module, 1, rule="lazy-imports", kind="startup", functions=["work", "rare"])
    project = SimpleNamespace(evidence=evidence_for(module, {"work": 0.9, "helper": 0.1}))
    assert deferral_threshold(lazy, project.evidence, 5.0) == 5.0  # never sampled: the configured threshold still holds
    assert deferral_threshold(hot_user, project.evidence, 5.0) == float("inf")  # a hot user keeps it eager
    assert deferral_threshold(lazy, None, 5.0) == 5.0
    ranked, _ = rank_findings([lazy.with_(reason="saves ~2.0 ms at startup (importtime)")], project.evidence, [module], None)
    assert ranked[0].reason == "cold: rare() never sampled; saves ~2.0 ms at startup (importtime)"


def test_split_python_command(tmp_path: Path) -> None:
    python, options, target = split_python_command(["python3", "-X", "dev", "-O", "-m", "pkg", "run"])
    assert options == ["-X", "dev", "-O"] and target == ["-m", "pkg", "run"]
    script = tmp_path / "tool"
    script.write_text(f"#!{sys.executable}\nprint(1)\n")
    python, options, target = split_python_command([str(script), "--flag"])
    assert python == sys.executable and target == [str(script), "--flag"]
    shell = tmp_path / "tool.sh"
    shell.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(UsageError, match="not a Python program"):
        split_python_command([str(shell)])


# -- the fixture, end to end --------------------------------------------------------------


@pytest.fixture(scope="module")
def hotcold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fx") / "hotcold"
    shutil.copytree(FIXTURES / "hotcold", target, ignore=shutil.ignore_patterns(".advisor", "__pycache__", ".pytest_cache"))
    return target


def scan_json(project: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = run_advisor("scan", "--no-cache", "--no-measure", "--select", "ALL", "--format", "json", *args, cwd=project)
    assert result.returncode == 1, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def concat_findings(report: dict) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in report["findings"] if f["rule"] == "concat-in-loop"]


def test_fixture_without_a_profile_uses_static_signals(hotcold: Path) -> None:
    report = scan_json(hotcold, "--no-profile")
    assert any("static signals" in n for n in report["summary"]["notices"])
    found = concat_findings(report)
    assert {Path(f["path"]).name for f in found} == {"hot.py", "cold.py"}
    assert Path(found[0]["path"]).name == "cold.py"  # deeper and branchier: static ranks it first
    assert all(f["reason"].startswith("static: reachable from console script `hotcold`") for f in found)


def test_fixture_with_a_recorded_profile_ranks_hot_first(hotcold: Path) -> None:
    recorded = run_advisor("profile", "--", sys.executable, "-m", "hotcold", cwd=hotcold)
    assert recorded.returncode == 0, recorded.stderr
    assert (hotcold / ".advisor" / "profile.pyisession").is_file()
    assert "hotcold.hot.build_report()" in recorded.stdout
    report = scan_json(hotcold)  # picks up .advisor/profile.pyisession unasked
    assert any("using .advisor/profile.pyisession" in n for n in report["summary"]["notices"])
    found = concat_findings(report)
    hot = [f for f in found if f["path"].endswith("hot.py")]
    cold = [f for f in found if f["path"].endswith("cold.py")]
    assert hot and cold
    assert min(f["score"] for f in hot) > max(f["score"] for f in cold)
    assert hot[0]["reason"].startswith("hot: in a function holding") and "hotcold.hot.build_report()" in hot[0]["reason"]
    # `out += row` makes no call: pyinstrument cannot place its time on its line, so no ms are claimed
    assert hot[0]["impact"]["source"] == "profile" and hot[0]["impact"]["estimate_ms"] is None
    assert all(f["reason"].startswith("cold: never sampled") for f in cold)
    text = run_advisor("scan", "--no-cache", "--no-measure", cwd=hotcold).stdout
    assert text.startswith("where the time goes (")
    assert text.index("hot.py:13") < text.index("cold.py:")


def test_explicit_profile_and_bad_profile(hotcold: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.pyisession"
    recorded = run_advisor("profile", "--out", str(out), "--", sys.executable, "-m", "hotcold", "report", "8000", cwd=hotcold)
    assert recorded.returncode == 0 and out.is_file(), recorded.stderr
    report = scan_json(hotcold, "--no-profile", "--profile", str(out))
    assert not any("using .advisor" in n for n in report["summary"]["notices"])
    assert concat_findings(report)[0]["path"].endswith("hot.py")
    bad = tmp_path / "bad.txt"
    bad.write_text("not a profile\n")
    result = run_advisor("scan", "--no-cache", "--profile", str(bad), cwd=hotcold)
    assert result.returncode == 2 and "not a profile advisor can read" in result.stderr


def test_profile_needs_a_python_command(hotcold: Path) -> None:
    assert run_advisor("profile", cwd=hotcold).returncode == 2
    shell = hotcold / "run.sh"
    shell.write_text("#!/bin/sh\necho hi\n")
    result = run_advisor("profile", "--", str(shell), cwd=hotcold)
    assert result.returncode == 2 and "not a Python program" in result.stderr
    shell.unlink()
    out = hotcold / "crash.pyisession"
    crash = run_advisor("profile", "--out", str(out), "--", sys.executable, "-c", "1/0", cwd=hotcold)
    assert crash.returncode == 2 and "no profile saved" in crash.stderr
    assert not out.exists() and not list(hotcold.glob("crash.pyisession*"))


def test_fixture_own_tests_pass(hotcold: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=hotcold,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_profile_with_imports_log(hotcold: Path, tmp_path: Path) -> None:
    out = tmp_path / "run" / "p.pyisession"
    recorded = run_advisor("profile", "--imports", "--out", str(out), "--", sys.executable, "-m", "hotcold", "report", "2000", cwd=hotcold)
    assert recorded.returncode == 0, recorded.stderr
    log = out.parent / "importtime.log"
    assert log.is_file() and log.read_text().startswith("import time:")
    text = run_advisor("scan", "--no-cache", "--no-measure", "--profile", str(out), "--profile", str(log), cwd=hotcold).stdout
    assert "imports at startup (cumulative):" in text and "hotcold.cli" in text


APP = '''\
import json
import sys


def encode_all(count):
    out = []
    for i in range(count):
        out.append(json.dumps({"i": i, "sq": [i] * 20}))
    return out


def main():
    if "--dry-run" not in sys.argv:  # (an unconditional call would run at every start: nothing to defer)
        encode_all(60_000)


if __name__ == "__main__":
    main()
'''


def test_an_import_a_hot_function_uses_stays_eager(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.advisor]\ncostly-modules = ["json"]\n')
    (tmp_path / "app.py").write_text(APP)
    args = ("scan", "app.py", "--no-cache", "--no-measure", "--select", "lazy-imports", "--format", "json")
    before = json.loads(run_advisor(*args, "--no-profile", cwd=tmp_path).stdout)
    assert [f["data"]["module"] for f in before["findings"]] == ["json"]  # no profile: defer it
    recorded = run_advisor("profile", "--", sys.executable, "app.py", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    after = json.loads(run_advisor(*args, cwd=tmp_path).stdout)
    assert after["findings"] == []  # encode_all() is hot: json stays eager


def test_call_graph_reachability(tmp_path: Path) -> None:
    from advisor.rank.callgraph import build_project_graph

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "pkg"\n[project.scripts]\npkg = "pkg.cli:main"\n')
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text(
        "from pkg import jobs\nfrom pkg.util import helper as h\n\n\n"
        "def main():\n    jobs.run()\n    return h()\n\n\ndef unused():\n    return 1\n")
    (pkg / "jobs.py").write_text(
        "class Runner:\n    def go(self):\n        return self.step()\n\n    def step(self):\n        return 2\n\n\n"
        "def run():\n    return Runner().go()\n\n\ndef orphan():\n    return Runner().step()\n")
    (pkg / "util.py").write_text("def helper():\n    return [x for x in range(3)]\n")
    (pkg / "tool.py").write_text("def cmd():\n    return 0\n\n\nif __name__ == '__main__':\n    cmd()\n")
    graph = build_project_graph(sorted(pkg.glob("*.py")), tmp_path)
    labels = {e.label for e in graph.entry_points}
    assert "console script `pkg`" in labels and any(label.startswith("`python ") for label in labels)
    script = "console script `pkg`"
    # Through a module attribute, an aliased from-import, `obj.method()` and `self.method()`.
    for node in ("pkg.cli:main", "pkg.jobs:run", "pkg.jobs:Runner.go", "pkg.jobs:Runner.step", "pkg.util:helper"):
        assert graph.reached_by(node) == script, node
    assert graph.reached_by("pkg.cli:unused") is None
    assert graph.reached_by("pkg.jobs:orphan") is None
    assert graph.reached_by("pkg.tool:cmd") and "tool.py" in graph.reached_by("pkg.tool:cmd")  # type: ignore[operator]


def test_import_log_alone_is_not_a_profile(module: Path) -> None:
    from advisor.evidence.importtime import ImportRecord

    evidence = Evidence(imports=[ImportRecord("json", 100, 2000, 0)])
    ranked, notices = rank_findings([finding(module, 7)], evidence, [module], None)
    assert "static signals" in notices[0] and ranked[0].reason.startswith("static: ")


def test_a_profile_of_other_code_is_called_out(module: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.py"
    other.write_text(MODULE)
    _, notices = rank_findings([finding(module, 7)], evidence_for(other, {"work": 1.0}), [module], None)
    assert any("samples none of the scanned files" in n for n in notices)
    _, notices = rank_findings([finding(module, 7)], evidence_for(module, {"work": 1.0}), [module], None)
    assert not any("samples none" in n for n in notices)
