"""Per-file and per-rule figures are computed together, never added up
(advisor/report/together.py; startup: rules/lazy_imports/group_figures.py;
run time: advisor/rank/group_totals.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from advisor.findings import ScanReport
from advisor.rank.group_totals import runtime_groups
from advisor.rank.score import rank_findings
from advisor.report import RenderOptions, get_renderer
from advisor.report.html import context
from conftest import run_advisor
from test_fix_entry_check import _project  # a console script `demo` (pkg.cli:main), the bundled cost table
from test_ranking import evidence_for, finding, module, with_lines  # noqa: F401  (module: a fixture)
from test_reports import chromium

# Two lines that load one package: each alone saves nothing (the other keeps
# asyncio loaded), so both are reported with what they save together; and tomllib.
JOBS = """\
from asyncio import run
from asyncio import sleep
import tomllib


def go():
    return run(None)


def pause():
    return sleep(1)


def config(text):
    return tomllib.loads(text)
"""


@pytest.fixture
def overlapping(tmp_path: Path) -> Path:
    return _project(tmp_path / "p", {"pkg/jobs.py": JOBS,
                                     "pkg/cli.py": "from pkg import jobs\n\n\ndef main():\n    return jobs\n"})


def test_the_html_bar_of_a_file_shows_its_findings_saved_together(overlapping: Path, tmp_path: Path) -> None:
    scanned = run_advisor("scan", ".", "--format", "json", cwd=overlapping)
    document = json.loads(scanned.stdout)
    estimates = [f["impact"]["estimate_ms"] for f in document["findings"] if f["path"] == "pkg/jobs.py"]
    together = document["summary"]["startup_saving_ms"]  # every finding is in pkg/jobs.py
    assert len(estimates) == 3 and together < sum(estimates) - 40  # asyncio would be counted twice
    assert together >= max(estimates)
    page = tmp_path / "report.html"
    run_advisor("scan", ".", "--format", "html", "--output", str(page), cwd=overlapping)
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    bars = dict(re.findall(r'aria-label="([^"]+): (\d+) ms"', result.stdout))
    assert bars == {"pkg/jobs.py": f"{together:.0f}"}
    assert re.findall(r'<div class="bar-ms">([^<]*)</div>', result.stdout) == [f"{together:.0f} ms"] * 2  # file, rule
    assert f"{sum(estimates):.0f} ms" not in result.stdout


def test_a_figure_that_no_longer_fits_the_findings_shown_gives_the_best_one_as_at_least(overlapping: Path) -> None:
    scanned = json.loads(run_advisor("scan", ".", "--format", "json", cwd=overlapping).stdout)
    asyncio_ms = max(f["impact"]["estimate_ms"] for f in scanned["findings"] if "asyncio" in f["message"])
    baseline = overlapping / "baseline.json"
    run_advisor("scan", ".", "--write-baseline", str(baseline), cwd=overlapping)
    _hide_tomllib(baseline)  # the scan's figure was for three findings; the report shows two
    page = overlapping / "r.html"
    run_advisor("scan", ".", "--baseline", str(baseline), "--format", "html", "--output", str(page), cwd=overlapping)
    html = page.read_text()
    assert f'aria-label="pkg/jobs.py: at least {asyncio_ms:.0f} ms"' in html
    assert f"≥ {asyncio_ms:.0f} ms" in html and f"{2 * asyncio_ms:.0f} ms" not in html


def _hide_tomllib(baseline: Path) -> None:
    """Keep only the baseline's tomllib record (the two asyncio findings are new)."""
    data = json.loads(baseline.read_text())
    records = data["findings"] if isinstance(data, dict) else data
    kept = [r for r in records if "tomllib" in json.dumps(r)]
    assert kept and len(kept) < len(records)
    if isinstance(data, dict):
        data["findings"] = kept
    else:
        data = kept
    baseline.write_text(json.dumps(data))


def test_run_time_figures_per_file_are_the_union_of_lines(module: Path) -> None:  # noqa: F811
    evidence = with_lines(evidence_for(module, {"work": 0.84, "helper": 0.16}), module, {7: 0.6, 8: 0.1}, exact=True)
    findings = [finding(module, 7, rule="concat-in-loop"), finding(module, 7, rule="quadratic-membership"),
                finding(module, 8, rule="concat-in-loop")]
    ranked, _ = rank_findings(findings, evidence, [module], None)
    assert sorted(f.impact.estimate_ms for f in ranked) == [pytest.approx(100.0), pytest.approx(600.0), pytest.approx(600.0)]
    groups = runtime_groups(ranked, evidence)
    figure = groups["file"][str(module)]
    assert figure["ms"] == pytest.approx(700.0)  # not 1300: line 7 counts once
    assert figure["rules"] == {"concat-in-loop": pytest.approx(700.0), "quadratic-membership": pytest.approx(600.0)}
    assert groups["rule"]["concat-in-loop"]["ms"] == pytest.approx(700.0)
    report = ScanReport(findings=ranked, summary={"runtime_groups": groups})
    bar = context(report)["by_file"][0]
    assert bar["ms"] == pytest.approx(700.0) and not bar["at_least"]
    assert sum(s["pct"] for s in bar["segments"]) == pytest.approx(100.0)  # the segments fill the bar, no more
    assert f'aria-label="{module}: 700 ms"' in get_renderer("html")(report, RenderOptions())
