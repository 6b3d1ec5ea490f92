"""Load run-time evidence into one neutral, function-level model.

Accepted, sniffed from the content (not the extension): pyinstrument
sessions (``.pyisession``), pyinstrument JSON renders, speedscope JSON (py-spy,
pyinstrument), cProfile/pstats files and ``python -X importtime`` logs.

Sampled formats keep their weighted stacks (root first) so that time can be
re-attributed to the project's own functions by file and line range: a frame's
line is ``co_firstlineno`` (the first decorator's line, not the ``def``) for
pyinstrument and cProfile, and the line being executed for py-spy.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from advisor.errors import UsageError
from advisor.evidence.importtime import ImportRecord, parse_importtime
from advisor.evidence.runtime import RuntimeEvidence, merge as merge_runtime

#: advisor profile's recorder: its frames are advisor's, not the program's.
_RECORDER = os.path.join(os.path.dirname(os.path.realpath(__file__)), "recorder") + os.sep
#: A weighted stack: frame indexes from the root to the leaf, and seconds.
Stack = tuple[tuple[int, ...], float]


@dataclass(frozen=True, slots=True)
class FrameRef:
    """One code location as a profiler names it."""

    path: str
    function: str
    #: co_firstlineno (pyinstrument, cProfile) or the executing line (py-spy).
    line: int
    #: In the standard library, site-packages or built in: not the project's code.
    library: bool = False


@dataclass(frozen=True, slots=True)
class FunctionTime:
    """Time a profiler attributes to one function."""

    path: str
    function: str
    line: int
    self_s: float
    total_s: float
    #: Exact call count (cProfile only); None for samplers.
    calls: int | None = None
    library: bool = False


@dataclass
class Profile:
    """One loaded profile file."""

    source: str
    format: str
    frames: list[FrameRef] = field(default_factory=list)
    #: Weighted stacks; empty for function-level formats (pstats).
    stacks: list[Stack] = field(default_factory=list)
    functions: list[FunctionTime] = field(default_factory=list)
    #: Sampled (or measured) seconds in all, the denominator of every share.
    total_s: float = 0.0
    #: (real path, line) -> seconds sampled while that line was executing in
    #: some frame (callees included, each sample counted once per line);
    #: empty when the format has no executing lines (pstats, JSON renders).
    line_s: dict[tuple[str, int], float] = field(default_factory=dict)
    #: True when ``line_s`` places a function's own bytecode too (py-spy samples
    #: the executing line). pyinstrument notes a frame's line only at call and
    #: return events, so its bytecode time lands on the next call's line: only
    #: the time of calls made from a line is kept there.
    lines_exact: bool = False
    #: Sampled seconds whose innermost frame is a blocking wait (a lock, sleep,
    #: select): the profiled thread waited, maybe for threads it did not sample.
    waiting_s: float = 0.0


@dataclass
class Evidence:
    """Everything measured about the program: profiles and import times."""

    profiles: list[Profile] = field(default_factory=list)
    imports: list[ImportRecord] = field(default_factory=list)
    #: Files the evidence came from, as given.
    sources: list[str] = field(default_factory=list)
    #: How the evidence was found, for ScanReport.notices.
    notices: list[str] = field(default_factory=list)
    #: What the program did (advisor profile's runtime.json), merged over every file given.
    runtime: RuntimeEvidence | None = None
    #: Derived data computed once per scan (see advisor.rank.heat_of).
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def total_s(self) -> float:
        return sum(p.total_s for p in self.profiles)

    @property
    def has_samples(self) -> bool:
        return self.total_s > 0

    @property
    def waiting_s(self) -> float:
        return sum(p.waiting_s for p in self.profiles)

    @property
    def lines_exact(self) -> bool:
        """Whether every profile with line times places bytecode time too."""
        with_lines = [p for p in self.profiles if p.line_s]
        return bool(with_lines) and all(p.lines_exact for p in with_lines)

    def line_s(self, path: str) -> dict[int, float] | None:
        """line -> seconds for one real path, merged over the profiles that
        carry executing lines; None when none does (no line attribution)."""
        with_lines = [p for p in self.profiles if p.line_s]
        if not with_lines:
            return None
        merged: dict[int, float] = {}
        for profile in with_lines:
            for (file, line), seconds in profile.line_s.items():
                if file == path:
                    merged[line] = merged.get(line, 0.0) + seconds
        return merged

    def top_functions(self, limit: int = 5, *, include_library: bool = False) -> list[FunctionTime]:
        """Functions by total time, merged over all profiles."""
        merged: dict[tuple[str, str], list[float]] = {}
        lines: dict[tuple[str, str], tuple[int, bool]] = {}
        for profile in self.profiles:
            for fn in profile.functions:
                if fn.library and not include_library:
                    continue
                key = (fn.path, fn.function)
                entry = merged.setdefault(key, [0.0, 0.0])
                entry[0] += fn.self_s
                entry[1] += fn.total_s
                lines.setdefault(key, (fn.line, fn.library))
        ranked = sorted(merged.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
        return [FunctionTime(p, f, lines[(p, f)][0], s, t, None, lines[(p, f)][1]) for (p, f), (s, t) in ranked[:limit]]

    def top_imports(self, limit: int = 5) -> list[ImportRecord]:
        """Modules the program imported directly, by cumulative import time.

        Interpreter start-up (everything up to and including ``site``) is
        left out: nothing in the program can move it.
        """
        records = self.imports
        site = [i for i, r in enumerate(records) if r.depth == 0 and r.module == "site"]
        if site:
            records = records[site[0] + 1:]
        direct = [r for r in records if r.depth == 0]
        return sorted(direct, key=lambda r: (-r.cumulative_us, r.module))[:limit]


class ProfileError(UsageError):
    """A --profile file that cannot be read or is in no known format."""


def load_evidence(paths: Iterable[Path], allow_marshal: bool = True) -> Evidence:
    """Load every file; raise ProfileError naming the first unusable one.
    ``allow_marshal=False`` for files found in the scanned tree: only the
    text and JSON formats are read, never a marshal (pstats) dump."""
    evidence = Evidence()
    for path in paths:
        loaded = load_file(path, allow_marshal)
        evidence.sources.append(str(path))
        if isinstance(loaded, RuntimeEvidence):
            evidence.runtime = merge_runtime([evidence.runtime, loaded]) if evidence.runtime else loaded
        elif isinstance(loaded, Profile):
            evidence.profiles.append(loaded)
        else:
            evidence.imports.extend(loaded)
    return evidence


#: Where ``advisor profile`` saves, relative to the project root; ``scan`` reads them unasked.
DEFAULT_PROFILE = Path(".advisor") / "profile.pyisession"
DEFAULT_IMPORTTIME = Path(".advisor") / "importtime.log"
DEFAULT_RUNTIME = Path(".advisor") / "runtime.json"  # (advisor.evidence.runtime.DEFAULT_RUNTIME)


def find_evidence(explicit: Iterable[Path], root: Path, use_default: bool = True) -> Evidence | None:
    """The --profile files, else the project's saved ones (said in a notice)."""
    paths = list(explicit)
    if paths:
        return load_evidence(paths)
    if not use_default:
        return None
    found = [root / p for p in (DEFAULT_PROFILE, DEFAULT_RUNTIME, DEFAULT_IMPORTTIME) if (root / p).is_file()]
    if not found:
        return None
    try:
        evidence = load_evidence(found, allow_marshal=False)
    except ProfileError as exc:  # the tree's file, not one the user named: ignored, said once
        print(f"advisor: ignored the saved profile: {exc}", file=sys.stderr)
        return None
    shown = " and ".join(_relative(p, root) for p in found)
    evidence.notices.append(f"using {shown} recorded by `advisor profile` (--no-profile to ignore)")
    return evidence


def _relative(path: Path, root: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_file(path: Path, allow_marshal: bool = True) -> Profile | list[ImportRecord] | RuntimeEvidence:
    """One evidence file, its format sniffed from its first bytes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from None
    head = data[:4096].lstrip()
    document = _json_document(data) if head.startswith(b"{") else None
    if document is not None:  # (a marshalled pstats dict starts with "{" too)
        return _from_json(path, document)
    if b"import time:" in head:
        records = parse_importtime(data.decode("utf-8", "replace"))
        if records:
            return records
    profile = _load_pstats(path) if allow_marshal else None
    if profile is not None:
        return profile
    raise ProfileError(
        f"{path}: not a profile advisor can read (expected a pyinstrument session or JSON, "
        "speedscope JSON, a cProfile/pstats file, or a -X importtime log)"
    )


def _json_document(data: bytes) -> dict[str, Any] | None:
    import json

    try:
        document = json.loads(data)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _from_json(path: Path, document: dict[str, Any]) -> Profile | RuntimeEvidence:
    if document.get("format") == "advisor-runtime":
        from advisor.evidence import runtime

        try:
            return runtime.from_json(document)
        except runtime.RuntimeFormatError as exc:
            raise ProfileError(f"{path}: {exc}") from None
    if "frame_records" in document:
        return _load_session(path)
    if "root_frame" in document:
        return _from_pyinstrument_json(str(path), document, path.parent)
    if "profiles" in document and "shared" in document:
        return _from_speedscope(str(path), document, path.parent)
    raise ProfileError(f"{path}: JSON, but neither a pyinstrument session/render nor speedscope")


# -- pyinstrument session ---------------------------------------------------------


def _load_session(path: Path) -> Profile:
    from pyinstrument.session import Session

    try:
        session = Session.load(path)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileError(f"{path}: damaged pyinstrument session: {exc}") from None
    bases = [Path(p) for p in session.sys_path if p] + [path.parent.parent, path.parent]
    builder = _StackBuilder(str(path), "pyinstrument-session", bases, tuple(session.sys_prefixes))
    for frame_infos, seconds in session.frame_records:
        stack = []
        executing = []
        for info in frame_infos:
            identifier, _, attributes = info.partition("\x01")
            function, _, rest = identifier.partition("\x00")
            file, _, line = rest.partition("\x00")
            if file == "<thread>":
                continue
            marks = attributes.split("\x01")
            cls = next((a[1:] for a in marks if a.startswith("c")), "")
            stack.append(builder.frame(file, function, _int(line), cls))
            executing.append([(builder.refs[stack[-1]].path, _int(a[1:])) for a in marks if a.startswith("l")])
        # The innermost frame's line is where its bytecode stood at the last event, not
        # where the time went: only lines that were calling something are kept.
        builder.add(tuple(stack), float(seconds), [key for keys in executing[:-1] for key in keys])
    return builder.build()


# -- pyinstrument JSON render --------------------------------------------------------


def _from_pyinstrument_json(source: str, document: dict[str, Any], base: Path) -> Profile:
    builder = _StackBuilder(source, "pyinstrument-json", [base.parent, base])
    root = document.get("root_frame")
    if not isinstance(root, dict):
        return builder.build()
    # Iterative walk: call stacks may be deeper than Python's recursion limit.
    todo: list[tuple[dict[str, Any], tuple[int, ...]]] = [(root, ())]
    while todo:
        node, parents = todo.pop()
        index = builder.frame(node.get("file_path", ""), node.get("function", ""), _int(node.get("line_no")), node.get("class_name", ""))
        stack = parents + (index,)
        children = [c for c in node.get("children", ()) if isinstance(c, dict)]
        real = [c for c in children if c.get("function") != "[self]"]
        own = float(node.get("time", 0.0)) - sum(float(c.get("time", 0.0)) for c in real)
        if own > 0:
            builder.add(stack, own)  # a tree is aggregated samples: leaf paths weighted by self time
        todo.extend((child, stack) for child in real)
    return builder.build()


# -- speedscope (py-spy "sampled", pyinstrument "evented") ------------------------------


def _from_speedscope(source: str, document: dict[str, Any], base: Path) -> Profile:
    builder = _StackBuilder(source, "speedscope", [base.parent, base])
    shared = document.get("shared", {}).get("frames", [])
    indexes = [builder.frame(str(f.get("file") or ""), str(f.get("name") or ""), _int(f.get("line"))) for f in shared]
    for profile in document.get("profiles", []):
        scale = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}.get(profile.get("unit", "seconds"), 1.0)
        if profile.get("type") == "sampled":
            weights = profile.get("weights") or [1.0] * len(profile.get("samples", []))
            py_spy = str(document.get("exporter", "")).startswith("py-spy")  # its lines are the executing ones
            for sample, weight in zip(profile.get("samples", []), weights):
                stack = tuple(indexes[i] for i in sample)
                lines = [(builder.refs[i].path, builder.refs[i].line) for i in stack] if py_spy else None
                builder.add(stack, float(weight) * scale, lines)
            builder.profile.lines_exact = py_spy
        elif profile.get("type") == "evented":
            _replay_events(builder, indexes, profile.get("events", []), scale)
    return builder.build()


def _replay_events(builder: _StackBuilder, indexes: list[int], events: list[dict[str, Any]], scale: float) -> None:
    """Open/close events -> weighted stacks: time between events goes to the open stack."""
    stack: list[int] = []
    last = None
    for event in events:
        at = float(event.get("at", 0.0))
        if stack and last is not None and at > last:
            builder.add(tuple(stack), (at - last) * scale)
        last = at
        frame = indexes[int(event["frame"])]
        if event.get("type") == "O":
            stack.append(frame)
        elif stack:
            stack.pop()


# -- cProfile / pstats --------------------------------------------------------------------


def _load_pstats(path: Path) -> Profile | None:
    import io
    import pstats

    try:
        stats = pstats.Stats(str(path), stream=io.StringIO())  # it prints its complaints
    except Exception:  # marshal/TypeError/EOFError on anything that is not a stats dump
        return None
    builder = _StackBuilder(str(path), "pstats", [path.parent.parent, path.parent])
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    functions = []
    for (file, line, name), (_, calls, self_s, total_s, _) in raw.items():
        ref = builder.refs[builder.frame(file, name, line)]
        functions.append(FunctionTime(ref.path, ref.function, ref.line, self_s, total_s, calls, builder.is_library(ref.path)))
    profile = builder.build()
    profile.functions = functions
    profile.total_s = float(getattr(stats, "total_tt", 0.0)) or sum(f.self_s for f in functions)
    return profile


# -- shared -----------------------------------------------------------------------------

#: Built-in functions that block the calling thread (pyinstrument names them
#: ``lock.acquire``, ``sleep``, ...): a sample ending there is waiting time.
WAITS = frozenset({"acquire", "sleep", "select", "poll", "wait", "waitpid", "join", "accept", "recv", "recv_into",
                   "control", "epoll"})


class _StackBuilder:
    """Interns frames, collects weighted stacks, aggregates per function."""

    def __init__(self, source: str, fmt: str, bases: list[Path], prefixes: tuple[str, ...] = ()) -> None:
        self.profile = Profile(source, fmt)
        self.refs = self.profile.frames
        self._index: dict[tuple[str, str, int], int] = {}
        self._bases = bases + [Path.cwd()]
        self._resolved: dict[str, str] = {}
        self._prefixes = tuple(p for p in (*prefixes, sys.prefix, sys.base_prefix) if p)

    def frame(self, file: str, function: str, line: int, cls: str = "") -> int:
        path = self._resolve(file)
        key = (path, function, line)
        if key not in self._index:
            name = f"{cls}.{function}" if cls and "." not in function else function
            self._index[key] = len(self.refs)
            self.refs.append(FrameRef(path, name, line, self.is_library(path)))
        return self._index[key]

    def add(self, stack: tuple[int, ...], seconds: float, lines: list[tuple[str, int]] | None = None) -> None:
        """One weighted stack; ``lines``: the (path, line) each frame was executing."""
        if not stack or seconds <= 0:
            return
        self.profile.stacks.append((stack, seconds))
        for key in set(lines or ()):
            if key[1] > 0 and not self.is_library(key[0]):
                self.profile.line_s[key] = self.profile.line_s.get(key, 0.0) + seconds
        leaf = self.refs[stack[-1]]
        if leaf.path in ("<built-in>", "") and leaf.function.rsplit(".", 1)[-1] in WAITS:
            self.profile.waiting_s += seconds

    def is_library(self, path: str) -> bool:
        if not path or path == "~" or path.startswith("<") or "site-packages" in path or "dist-packages" in path:
            return True
        if path.startswith(_RECORDER):
            return True  # advisor's recorder, running inside the profiled program
        return any(path.startswith(prefix + os.sep) for prefix in self._prefixes)

    def build(self) -> Profile:
        profile = self.profile
        # py-spy names a frame per executing line: aggregate per (path, function).
        totals: dict[tuple[str, str], list[float]] = {}
        first_line: dict[tuple[str, str], int] = {}
        for stack, seconds in profile.stacks:
            seen = set()
            for index in stack:
                ref = self.refs[index]
                key = (ref.path, ref.function)
                first_line[key] = min(first_line.get(key, ref.line), ref.line)
                if key not in seen:
                    seen.add(key)
                    totals.setdefault(key, [0.0, 0.0])[1] += seconds
            leaf = self.refs[stack[-1]]
            totals[(leaf.path, leaf.function)][0] += seconds
        profile.functions = [
            FunctionTime(p, f, first_line[(p, f)], s, t, None, self.is_library(p)) for (p, f), (s, t) in totals.items()
        ]
        profile.total_s = sum(seconds for _, seconds in profile.stacks)
        return profile

    def _resolve(self, file: str) -> str:
        """Absolute, real path for a file a profiler recorded relative to its cwd."""
        if not file or file.startswith("<") or os.path.isabs(file):
            return file
        if file not in self._resolved:
            found = next((base / file for base in self._bases if (base / file).is_file()), None)
            self._resolved[file] = str(found.resolve()) if found else file
        return self._resolved[file]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


__all__ = ["Evidence", "FrameRef", "FunctionTime", "Profile", "ProfileError", "load_evidence", "load_file"]
