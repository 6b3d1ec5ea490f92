"""Recall on real code: score the loop rules against hand-labeled lines.

``benchmarks/precision.py`` asks "is every finding right?"; this script asks
the other question, "does the rule find what it should, and stay silent
where it should?". ``benchmarks/recall_labels.toml`` lists pinned releases
of real applications, CLIs, async services and data tools (mostly not in
the precision corpus) and, for each labeled line, the rule, whether it
must fire or must stay silent, a fragment of the line's code (so a label
can never silently point at the wrong line) and a one-line why. Each label
was judged by reading the code around it.

The script downloads the packages with ``pip download`` (never installed or
imported), unpacks them under ``benchmarks/.work/recall-corpus/``, scans
them with ``advisor scan --format json --no-cache --no-measure`` and
prints, per rule: must-fire lines found (recall), findings on labeled lines
that are right (precision on the labels), and the missed and wrongly
flagged lines. Findings on lines nobody labeled are counted, not judged
(``--unlabeled`` lists them, to be read and labeled).

Usage::

    python benchmarks/recall.py --jobs 2
    python benchmarks/recall.py --rules loop-invariant --offline --unlabeled

Exit code: 0 when the scan ran, 1 when it could not or a label does not
match its line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from precision import _archive_for, download, unpack  # noqa: E402

LABELS = HERE / "recall_labels.toml"
CORPUS = HERE / ".work" / "recall-corpus"


@dataclass(frozen=True)
class Label:
    """One judged line: ``rule`` must (or must not) report ``path:line``."""

    package: str
    path: str
    line: int
    rule: str
    fire: bool
    code: str
    why: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, f"{self.package}/{self.path}", self.line)


def load_labels(path: Path = LABELS) -> tuple[list[dict[str, object]], list[Label]]:
    """The pinned packages and the labels of ``path``."""
    data = tomllib.loads(path.read_text("utf-8"))
    packages = data["package"]
    pinned = {f"{p['name']}-{p['version']}" for p in packages}
    labels = []
    for raw in data["label"]:
        if raw["package"] not in pinned:
            raise SystemExit(f"label {raw['path']}:{raw['line']}: package {raw['package']} is not pinned")
        if raw["expect"] not in ("fire", "silent"):
            raise SystemExit(f"label {raw['path']}:{raw['line']}: expect must be 'fire' or 'silent'")
        labels.append(Label(raw["package"], raw["path"], int(raw["line"]), raw["rule"],
                            raw["expect"] == "fire", raw["code"], raw["why"]))
    return packages, labels


def build_corpus(packages: list[dict[str, object]], offline: bool) -> list[Path]:
    """Download (unless offline) and unpack every pinned package."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    (CORPUS / "pyproject.toml").write_text("[tool.advisor]\n", "utf-8")
    roots = []
    for package in packages:
        name, version = str(package["name"]), str(package["version"])
        keep = tuple(package.get("keep", ()))  # type: ignore[call-overload]
        archive = _archive_for(name, version) if offline else download(name, version, sdist=False)
        if archive is None:
            raise SystemExit(f"{name}=={version} is not downloaded (run without --offline)")
        roots.append(unpack(archive, name, version, keep, corpus=CORPUS))
    return roots


def check_lines(labels: list[Label]) -> list[str]:
    """Labels whose line no longer holds their code fragment."""
    wrong = []
    for label in labels:
        path = CORPUS / label.package / label.path
        try:
            lines = path.read_text("utf-8").splitlines()
        except OSError as exc:
            wrong.append(f"{label.package}/{label.path}: {exc}")
            continue
        text = lines[label.line - 1] if 0 < label.line <= len(lines) else ""
        if label.code not in text:
            wrong.append(f"{label.package}/{label.path}:{label.line}: expected {label.code!r}, found {text.strip()!r}")
    return wrong


def scan(roots: list[Path], rules: list[str], jobs: int | None) -> list[dict[str, object]]:
    """``advisor scan`` in a subprocess, as a user runs it; the findings."""
    command = [sys.executable, "-m", "advisor", "scan", "--format", "json", "--no-cache", "--no-measure",
               "--select", ",".join(rules), *(str(r.relative_to(CORPUS)) for r in roots)]
    if jobs:
        command += ["--jobs", str(jobs)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=CORPUS)
    if done.returncode not in (0, 1, 2) or not done.stdout.strip():
        sys.stderr.write(done.stderr)
        raise SystemExit(f"advisor scan failed with exit code {done.returncode}")
    report = json.loads(done.stdout)
    for error in report["errors"]:
        print(f"not analysed: {error['path']}: {error['kind']}", file=sys.stderr)
    return report["findings"]  # type: ignore[no-any-return]


def flagged_lines(findings: list[dict[str, object]]) -> dict[tuple[str, str, int], str]:
    """(rule, path, line) -> message, for every line a finding spans."""
    flagged: dict[tuple[str, str, int], str] = {}
    for finding in findings:
        first = int(finding["line"])  # type: ignore[call-overload]
        last = int(finding.get("end_line") or first)  # type: ignore[call-overload]
        path = Path(str(finding["path"])).as_posix().removeprefix("./")
        for line in range(first, last + 1):
            flagged.setdefault((str(finding["rule"]), path, line), str(finding["message"]))
    return flagged


def score(labels: list[Label], flagged: dict[tuple[str, str, int], str], rules: list[str]) -> list[str]:
    """The table: per rule, recall on must-fire lines and precision on labeled lines."""
    rows = ["| rule | must fire | found | recall | must stay silent | wrongly flagged | precision on labels |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    totals = [0, 0, 0, 0]
    for rule in rules:
        mine = [label for label in labels if label.rule == rule]
        fire = [label for label in mine if label.fire]
        silent = [label for label in mine if not label.fire]
        found = sum(1 for label in fire if label.key in flagged)
        wrong = sum(1 for label in silent if label.key in flagged)
        rows.append(f"| {rule} | {len(fire)} | {found} | {_ratio(found, len(fire))} | {len(silent)} | {wrong} "
                    f"| {_ratio(found, found + wrong)} |")
        for i, n in enumerate((len(fire), found, len(silent), wrong)):
            totals[i] += n
    fire_n, found, silent_n, wrong = totals
    rows.append(f"| **all** | {fire_n} | {found} | **{_ratio(found, fire_n)}** | {silent_n} | {wrong} "
                f"| **{_ratio(found, found + wrong)}** |")
    return rows


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.2f}" if whole else "–"


def misses(labels: list[Label], flagged: dict[tuple[str, str, int], str]) -> list[str]:
    """Every label the rules get wrong, with its why."""
    out = []
    for label in labels:
        hit = label.key in flagged
        if hit != label.fire:
            verb = "missed" if label.fire else "WRONGLY FLAGGED"
            out.append(f"{verb}: {label.rule} {label.package}/{label.path}:{label.line}  ({label.why})")
    return out


def unlabeled(labels: list[Label], findings: list[dict[str, object]], rules: list[str]) -> list[str]:
    """Findings on lines no label covers (to be read, judged and labeled)."""
    known = {label.key for label in labels}
    out = []
    for finding in findings:
        path = Path(str(finding["path"])).as_posix().removeprefix("./")
        key = (str(finding["rule"]), path, int(finding["line"]))  # type: ignore[call-overload]
        if key[0] in rules and key not in known:
            out.append(f"{key[0]} {path}:{key[2]}  {finding['message']}")
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", help="comma-separated rule ids (default: every labeled rule)")
    parser.add_argument("--offline", action="store_true", help="reuse downloads, fetch nothing")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes for the scan")
    parser.add_argument("--unlabeled", action="store_true", help="list findings on lines nobody labeled")
    args = parser.parse_args(argv)
    packages, labels = load_labels()
    rules = sorted({label.rule for label in labels})
    if args.rules:
        rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    labels = [label for label in labels if label.rule in rules]
    roots = build_corpus(packages, args.offline)
    wrong = check_lines(labels)
    if wrong:
        print("labels that do not match their line:", *wrong, sep="\n  ", file=sys.stderr)
        return 1
    findings = scan(roots, rules, args.jobs)
    flagged = flagged_lines(findings)
    counts: dict[str, int] = defaultdict(int)
    for finding in findings:
        counts[str(finding["rule"])] += 1
    print("\n".join(score(labels, flagged, rules)))
    print()
    print("\n".join(misses(labels, flagged)) or "no label missed or wrongly flagged")
    print()
    extra = unlabeled(labels, findings, rules)
    print(f"{len(findings)} findings in all, {len(extra)} on unlabeled lines "
          + ", ".join(f"{rule}: {counts[rule]}" for rule in rules))
    if args.unlabeled:
        print("\n".join(extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
