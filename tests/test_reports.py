"""Every renderer on empty, normal, FileError and non-ASCII-path reports;
SARIF against the official 2.1.0 schema; HTML in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from advisor.findings import ScanReport
from advisor.evidence.importtime import parse_importtime
from advisor.findings import FileError, Finding, FixInfo, Impact, Span
from advisor.report import RENDERERS, RenderOptions, get_renderer, guess_format
from advisor.report.github import escape_data, escape_property
from conftest import REPO, run_advisor

DATA = Path(__file__).resolve().parent / "data"
VENDORED_SCHEMA = DATA / "sarif-schema-2.1.0.json"
SHARED_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
NEW_FORMATS = ("sarif", "github", "markdown", "html")

SOURCE = """\
import argparse
import asyncio
import json


def main():
    return asyncio.run(serve())
"""


def _finding(path: str, line: int, message: str, *, rule: str = "lazy-imports", ms: float | None = 84.9,
             text: str = "import asyncio", score: float = 76.4) -> Finding:
    return Finding(
        rule=rule, path=path, span=Span(line, 0, line, len(text)), message=message,
        impact=Impact("startup" if rule == "lazy-imports" else "runtime", ms, "importtime" if ms else "static"),
        fix=FixInfo(True, "safe") if rule == "lazy-imports" else FixInfo(),
        score=score, reason="saves ~84.9 ms at startup (importtime)" if ms else "",
        data={"statement": text, "functions": ["main"], "usage": "functions", "key": text} if rule == "lazy-imports" else {},
        line_text=text,
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scanned tree the renderers can read excerpts from (paths relative to cwd)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "cli.py").write_text(SOURCE, "utf-8")
    odd = tmp_path / "pkg" / "ünï cødé"
    odd.mkdir()
    (odd / "日本.py").write_text(SOURCE, "utf-8")
    return tmp_path


def empty_report() -> ScanReport:
    return ScanReport(files=0, seconds=0.01, rules=["lazy-imports"])


def normal_report() -> ScanReport:
    findings = [
        _finding("pkg/cli.py", 2, "`asyncio` costs ~85 ms at startup; only main() uses it"),
        _finding("pkg/cli.py", 3, "`json` costs ~6 ms at startup; only main() uses it", ms=6.2, text="import json", score=5.6),
        _finding("pkg/cli.py", 7, "a call <b>in</b> a loop | with 100% cost", rule="loop-invariant", ms=None, text="return asyncio.run(serve())", score=1.0),
    ]
    # The startup figures come from the startup model (computed on the graph): here
    # deferring both imports together saves 88 ms, not the 91 ms their figures add up to.
    startup = {"startup_total_ms": 140.0, "startup_saving_ms": 88.0, "fixable_saving_ms": 88.0, "source": "importtime",
               "entries": [{"name": "console script `tool`", "total_ms": 140.0, "saving_ms": 88.0, "fixable_saving_ms": 88.0}]}
    together = {"ms": 88.0, "of": sorted(f.fingerprint for f in findings[:2]), "rules": {"lazy-imports": 88.0}}
    startup["groups"] = {"file": {"pkg/cli.py": together}, "rule": {"lazy-imports": together}}
    return ScanReport(findings=findings, files=3, seconds=0.42, rules=["lazy-imports", "loop-invariant"],
                      notices=["import costs measured with /usr/bin/python3"], summary={"startup": startup})


def error_report() -> ScanReport:
    report = normal_report()
    report.errors = [
        FileError("pkg/broken.py", "parse", "invalid syntax at line 3, column 7"),
        FileError("pkg/cli.py", "rule", "KeyError: 'x'", rule="lazy-imports", detail="Traceback ..."),
    ]
    return report


def unicode_report() -> ScanReport:
    path = "pkg/ünï cødé/日本.py"
    findings = [_finding(path, 2, "`asyncio` costs ~85 ms at startup; only main() uses it <script>alert(1)</script>")]
    errors = [FileError("pkg/ünï cødé/壊れた.py", "decode", "cannot decode: 'utf-8' codec can't decode byte 0xff")]
    return ScanReport(findings=findings, errors=errors, files=2, seconds=0.1, rules=["lazy-imports"])


REPORTS = {"empty": empty_report, "normal": normal_report, "errors": error_report, "unicode": unicode_report}


@pytest.mark.parametrize("kind", sorted(REPORTS))
@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_every_renderer_renders_every_report(project: Path, fmt: str, kind: str) -> None:
    report = REPORTS[kind]()
    text = get_renderer(fmt)(report, RenderOptions())
    assert isinstance(text, str)
    if fmt == "github" and not report.findings and not report.errors and not report.notices:
        assert text == ""
        return
    assert text.endswith("\n")
    for finding in report.findings:
        assert _shows_path(text, fmt, finding.path), (fmt, finding.path)
    for error in report.errors:
        assert _shows_path(text, fmt, error.path), (fmt, error.path)


def _shows_path(text: str, fmt: str, path: str) -> bool:
    if fmt == "sarif":
        uris = [unquote(m) for m in re.findall(r'"uri": "([^"]+)"', text)]
        return path in uris
    if fmt == "github":
        return f"file={escape_property(path)}" in text
    return path in text


# -- SARIF -------------------------------------------------------------------------------------


def sarif_validator():  # type: ignore[no-untyped-def]
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(VENDORED_SCHEMA.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_vendored_schema_is_the_shared_one() -> None:
    assert VENDORED_SCHEMA.is_file(), "tests/data/sarif-schema-2.1.0.json is missing"
    schema = json.loads(VENDORED_SCHEMA.read_text("utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json") and "2.1.0" in schema["title"]
    if SHARED_SCHEMA.is_file():
        assert VENDORED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_sarif_validates_against_the_official_schema(project: Path, kind: str) -> None:
    document = json.loads(get_renderer("sarif")(REPORTS[kind](), RenderOptions()))
    errors = sorted(sarif_validator().iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_sarif_validator_rejects_a_broken_document(project: Path) -> None:
    """The schema check can fail: a result without a message is invalid."""
    document = json.loads(get_renderer("sarif")(normal_report(), RenderOptions()))
    del document["runs"][0]["results"][0]["message"]
    assert list(sarif_validator().iter_errors(document))


def test_sarif_results_carry_fingerprints_savings_and_rule_help(project: Path) -> None:
    report = normal_report()
    run = json.loads(get_renderer("sarif")(report, RenderOptions()))["runs"][0]
    results = run["results"]
    assert [r["partialFingerprints"]["advisorFingerprint/v1"] for r in results] == [f.fingerprint for f in report.findings]
    first = results[0]
    assert first["properties"]["estimatedSavingMs"] == 84.9
    assert first["properties"]["score"] == 76.4
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 15}
    assert "estimatedSavingMs" not in results[2]["properties"]  # no estimate: no made-up number
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["lazy-imports", "loop-invariant"]
    assert "## Why it matters" in rules[0]["help"]["text"]
    assert rules[0]["shortDescription"]["text"].startswith("Defer imports")
    assert all(run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_sarif_fingerprint_survives_lines_inserted_above(project: Path) -> None:
    before = _finding("pkg/cli.py", 2, "m")
    after = before.with_(span=Span(40, 0, 40, 14))
    render = get_renderer("sarif")
    prints = [json.loads(render(ScanReport(findings=[f]), RenderOptions()))["runs"][0]["results"][0]["partialFingerprints"]
              for f in (before, after)]
    assert prints[0] == prints[1]


def test_sarif_errors_are_tool_execution_notifications(project: Path) -> None:
    run = json.loads(get_renderer("sarif")(error_report(), RenderOptions()))["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    errors = [n for n in notes if n["level"] == "error"]
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in errors] == ["pkg/broken.py", "pkg/cli.py"]
    assert errors[1]["associatedRule"] == {"id": "lazy-imports"}
    assert "invalid syntax" in errors[0]["message"]["text"]


def test_sarif_non_ascii_paths_are_percent_encoded(project: Path) -> None:
    run = json.loads(get_renderer("sarif")(unicode_report(), RenderOptions()))["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.isascii() and " " not in uri
    assert unquote(uri) == "pkg/ünï cødé/日本.py"


# -- GitHub annotations ------------------------------------------------------------------------


def test_github_annotations_escape_data_and_properties(project: Path) -> None:
    finding = _finding("dir,with:odd%chars.py", 2, "100% slow\nsecond line\r::x")
    text = get_renderer("github")(ScanReport(findings=[finding]), RenderOptions())
    line, = text.splitlines()
    head, _, message = line.partition("::")[2].partition("::")
    assert head.startswith("warning file=dir%2Cwith%3Aodd%25chars.py,line=2,")
    assert "col=1" in head and "title=advisor lazy-imports%3A ~85 ms startup" in head
    assert message.startswith("100%25 slow%0Asecond line%0D::x")
    assert escape_data("a%0A") == "a%250A"


def test_github_errors_and_notices(project: Path) -> None:
    lines = get_renderer("github")(error_report(), RenderOptions()).splitlines()
    assert sum(line.startswith("::warning ") for line in lines) == 3
    assert any(line.startswith("::error file=pkg/broken.py,title=advisor%3A parse error::") for line in lines)
    assert lines[-1].startswith("::notice title=advisor::import costs")


# -- Markdown ----------------------------------------------------------------------------------


def test_markdown_is_a_compact_table_with_savings(project: Path) -> None:
    text = get_renderer("markdown")(error_report(), RenderOptions())
    assert text.startswith("### advisor: 3 performance findings\n")
    assert "**~88 ms** of startup" in text  # the model's figure: overlapping savings are never added up
    rows = [line for line in text.splitlines() if line.startswith("| 1 ")]
    assert rows == ["| 1 | ~85 ms startup | `lazy-imports` | `pkg/cli.py:2` | `asyncio` costs ~85 ms at startup; only main() uses it *(auto-fix)* |"]
    assert "a call \\<b\\>in\\</b\\> a loop \\| with 100% cost" in text  # no raw HTML, no broken table
    assert "2 files not analysed" in text and "invalid syntax" in text


def test_markdown_folds_findings_beyond_the_top(project: Path) -> None:
    findings = [_finding("pkg/cli.py", 2, f"finding {i}", text=f"import m{i}", score=100 - i) for i in range(15)]
    text = get_renderer("markdown")(ScanReport(findings=findings, files=1), RenderOptions())
    assert text.count("\n| ") == 2 + 15 and text.count("\n|--:|") == 2  # per table: header + separator; a row per finding
    assert "<details><summary>5 more findings</summary>" in text


# -- HTML --------------------------------------------------------------------------------------


def test_html_is_self_contained_and_escaped(project: Path) -> None:
    text = get_renderer("html")(unicode_report(), RenderOptions())
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//""", text)
    assert "<script" not in text  # no scripts at all
    assert "pkg/ünï cødé/日本.py" in text


def test_html_shows_excerpt_suggestion_chart_and_errors(project: Path) -> None:
    text = get_renderer("html")(error_report(), RenderOptions())
    assert '<tr class="hit"><td class="n">2</td><td>import asyncio</td></tr>' in text
    assert "Move <code>import asyncio</code> from module level into main()." in text
    assert "advisor fix --rule lazy-imports pkg/cli.py" in text
    assert "Where the time goes" in text and 'aria-label="pkg/cli.py: 88 ms"' in text  # together, not 85 + 6
    assert "loop-invariant <span class=\"count\">· 1 finding without a time estimate" in text
    assert "Files not analysed (2)" in text and "invalid syntax at line 3" in text


@pytest.mark.parametrize(("data", "expected"), [
    ({"statement": "import pandas as pd", "functions": ["a", "b"], "usage": "functions"},
     "Move `import pandas as pd` from module level into a(), b()."),
    ({"statement": "import numpy", "functions": [], "usage": "annotations"},
     "Move `import numpy` under `if TYPE_CHECKING:` (only annotations use it)."),
    ({"advice": 'collect the parts in a list and `"".join()` them once'}, 'Collect the parts in a list and `"".join()` them once.'),
    ({"batch": "save them with one `bulk_create()`"}, "Save them with one `bulk_create()`."),
    ({"instead": "`asyncio.sleep()`"}, "Use `asyncio.sleep()`."),
    ({}, ""),
])
def test_html_suggested_change_comes_from_the_rule_data(data: dict, expected: str) -> None:
    from advisor.report.html import suggestion

    assert suggestion(_finding("a.py", 1, "m").with_(data=data)) == expected


def test_html_survives_a_file_that_vanished(project: Path) -> None:
    (project / "pkg" / "cli.py").unlink()
    text = get_renderer("html")(normal_report(), RenderOptions())
    assert "`asyncio`" not in text and "<code>asyncio</code> costs ~85 ms" in text
    assert 'class="code"' not in text


def test_html_import_tree_and_hotspots_when_the_report_has_them(project: Path) -> None:
    log = "\n".join([
        "import time: self [us] | cumulative | imported package",
        "import time:       500 |        500 |     _asyncio",
        "import time:     30000 |      30500 |   asyncio.events",
        "import time:      1000 |      31500 | asyncio",
        "import time:     20000 |      20000 | json",
    ])
    report = normal_report()
    report.import_tree = parse_importtime(log)  # type: ignore[attr-defined]
    report.hotspots = [{"function": "serve", "ms": 120.0, "where": "pkg/cli.py:9"}]  # type: ignore[attr-defined]
    text = get_renderer("html")(report, RenderOptions())
    modules = re.findall(r'<td class="mod mono" style="padding-left: (\d+)px">([\w.]+)</td>', text)
    assert modules == [("0", "asyncio"), ("18", "asyncio.events"), ("0", "json")]
    assert "Measured hot spots" in text and "serve" in text


def test_html_uses_the_scan_evidence(project: Path) -> None:
    """With ``scan --profile`` evidence: its import log (after interpreter startup) and hot functions."""
    profile = pytest.importorskip("advisor.evidence.profile")
    log = "\n".join([
        "import time:       900 |        900 | site",
        "import time:     30000 |      30500 | asyncio",
    ])
    function = profile.FunctionTime("pkg/cli.py", "serve", 9, 0.05, 0.25)
    evidence = profile.Evidence(profiles=[profile.Profile("p.pyisession", "pyinstrument", functions=[function], total_s=1.0)],
                                imports=parse_importtime(log), sources=["p.pyisession"])
    report = normal_report()
    report.evidence = evidence  # type: ignore[attr-defined]
    text = get_renderer("html")(report, RenderOptions())
    assert re.findall(r'<td class="mod mono" style="padding-left: \d+px">([\w.]+)</td>', text) == ["asyncio"]
    assert "serve()" in text and "250 ms" in text and "evidence: p.pyisession" in text


# -- light imports, registry, CLI ----------------------------------------------------------------


def test_jinja2_is_imported_only_by_html_and_markdown(project: Path) -> None:
    code = (
        "import sys, pickle\n"
        "from advisor.report import get_renderer, RenderOptions\n"
        "report = pickle.loads(sys.stdin.buffer.read())\n"
        "for fmt in ('text', 'json', 'sarif', 'github'):\n"
        "    get_renderer(fmt)(report, RenderOptions())\n"
        "assert 'jinja2' not in sys.modules, fmt\n"
        "get_renderer('markdown')(report, RenderOptions())\n"
        "assert 'jinja2' in sys.modules\n"
    )
    import pickle

    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(normal_report()), capture_output=True,
                            cwd=project, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode()


def test_output_extension_picks_the_format() -> None:
    assert [guess_format(n) for n in ("r.sarif", "r.sarif.json", "r.json", "r.md", "r.HTML")] == [
        "sarif", "sarif", "json", "markdown", "html"]


@pytest.mark.parametrize("fmt", NEW_FORMATS)
def test_scan_writes_each_format(tmp_path: Path, fmt: str) -> None:
    (tmp_path / "app.py").write_text("import asyncio\n\n\ndef main():\n    asyncio.run(main())\n", "utf-8")
    out = tmp_path / f"report.{ {'markdown': 'md', 'github': 'txt'}.get(fmt, fmt) }"
    result = run_advisor("scan", "app.py", "--no-measure", "--no-cache", "--format", fmt, "-o", str(out), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    text = out.read_text("utf-8")
    assert "app.py" in text and "asyncio" in text
    if fmt == "sarif":
        assert not list(sarif_validator().iter_errors(json.loads(text)))


# -- Chromium ----------------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = _chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)


def test_html_report_renders_in_chromium_with_findings_visible(project: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(get_renderer("html")(error_report(), RenderOptions()), "utf-8")
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "<h2>What to fix first</h2>" in dom
    assert dom.count('<article class="finding"') == 3
    assert "<code>asyncio</code> costs ~85 ms at startup; only main() uses it" in dom
    assert "pkg/broken.py" in dom
    shot = tmp_path / "report.png"
    result = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,1400", page.as_uri())
    assert result.returncode == 0 and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
