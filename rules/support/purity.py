"""What missing-cache needs to know about a function: is it pure, what costly
work does it do, and how does the module call it.

"Pure" here is a whitelist judgement: every call must be to a builtin or
standard-library function known to have no side effects and no hidden
inputs (clock, randomness, environment), to another pure function of the
module, or a read-only method; anything unknown makes the function impure.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from advisor._lazy import lazy_module
from advisor.rules.support.scopes import Scope, call_name, descendants, small_literal_loop, walk

if TYPE_CHECKING:
    import libcst as cst
else:
    cst = lazy_module("libcst")

PURE_BUILTINS = frozenset({
    "len", "sorted", "list", "dict", "set", "frozenset", "tuple", "str", "int", "float", "bool", "bytes",
    "min", "max", "sum", "any", "all", "zip", "enumerate", "range", "map", "filter", "reversed",
    "isinstance", "issubclass", "hasattr", "getattr", "repr", "ord", "chr", "abs", "round", "divmod",
    "iter", "next", "format", "type", "callable", "open", "ValueError", "TypeError", "KeyError",
})
_IMPURE_BUILTINS = frozenset({"print", "input", "exec", "eval", "setattr", "delattr", "globals", "locals",
                              "vars", "id", "__import__", "breakpoint", "compile", "object"})
#: Standard-library callables without side effects or hidden inputs (prefix match with ".*").
PURE_CALLS = frozenset({
    "re.*", "json.load", "json.loads", "json.dumps", "os.path.*", "posixpath.*", "ntpath.*",
    "pathlib.Path", "pathlib.PurePath", "pathlib.PurePosixPath", "fnmatch.*", "glob.glob", "glob.iglob",
    "string.*", "textwrap.*", "itertools.*", "collections.*", "math.*", "operator.*", "unicodedata.*",
    "ast.parse", "ast.literal_eval", "ast.walk", "tomllib.load", "tomllib.loads", "tomli.load",
    "tomli.loads", "yaml.safe_load", "csv.reader", "csv.DictReader", "configparser.ConfigParser",
    "inspect.signature", "inspect.getsource", "inspect.getmembers", "inspect.getfullargspec",
    "importlib.metadata.*", "importlib_metadata.*", "importlib.resources.files", "keyword.iskeyword",
    "codecs.open", "codecs.decode", "struct.*", "base64.*", "hashlib.*", "binascii.*", "shlex.split",
    "html.escape", "html.unescape", "urllib.parse.*", "ipaddress.*", "decimal.Decimal",
    "typing.get_type_hints", "typing.get_args", "typing.get_origin", "dataclasses.fields",
    "sysconfig.get_paths", "sysconfig.get_config_var", "os.listdir", "os.walk", "os.scandir",
    "os.fspath", "os.fsencode", "os.fsdecode", "io.open", "io.StringIO", "io.BytesIO", "functools.reduce",
})
READ_ATTRS = frozenset({"os.sep", "os.linesep", "os.pathsep", "os.curdir", "os.pardir", "os.extsep", "os.name",
                        "sys.platform", "sys.version_info", "sys.maxsize", "sys.byteorder"})
READ_ATTR_MODULES = ("re.", "string.", "math.", "os.path.", "unicodedata.", "keyword.", "stat.")
#: Methods that act on the world (files, sockets, databases) even on a local object.
SIDE_EFFECT_METHODS = frozenset({
    "write", "writelines", "write_text", "write_bytes", "send", "sendall", "sendto", "mkdir", "makedirs",
    "unlink", "rmdir", "touch", "chmod", "rename", "symlink_to", "flush", "truncate", "execute",
    "executemany", "commit", "rollback", "delete", "post", "put", "patch", "request", "urlopen", "emit",
    "set_result", "cancel", "kill", "terminate", "start", "run",
})
#: Methods that only read: safe on a parameter of unknown (but hashable) type.
READ_METHODS = frozenset({
    "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "lower", "upper", "casefold", "title",
    "capitalize", "startswith", "endswith", "replace", "format", "join", "encode", "decode", "partition",
    "rpartition", "find", "rfind", "index", "count", "isdigit", "isalpha", "isalnum", "isidentifier",
    "isspace", "isupper", "islower", "zfill", "ljust", "rjust", "center", "removeprefix", "removesuffix",
    "read_text", "read_bytes", "exists", "is_file", "is_dir", "resolve", "absolute", "relative_to",
    "with_suffix", "with_name", "joinpath", "glob", "rglob", "iterdir", "as_posix", "get", "keys",
    "values", "items", "copy", "match", "search", "fullmatch", "findall", "finditer", "sub", "subn",
    "groups", "group", "groupdict",
})
IMMUTABLE_RESULTS = frozenset({
    "str", "int", "float", "bool", "bytes", "tuple", "frozenset", "len", "repr", "re.compile",
    "importlib.metadata.version", "importlib_metadata.version", "inspect.signature", "inspect.getsource",
    "os.path.join", "os.path.abspath", "os.path.realpath", "os.path.dirname", "os.path.basename",
    "pathlib.Path", "min", "max", "sum", "any", "all", "hash",
})
_WORK = (
    ("reads and parses a file", ("json.load", "tomllib.load", "tomli.load", "yaml.safe_load", "csv.reader",
                                 "csv.DictReader")),
    ("parses Python source", ("ast.parse",)),
    ("compiles regular expressions", ("re.compile",)),
    ("walks a directory", ("os.walk", "os.listdir", "os.scandir", "glob.glob", "glob.iglob", ".glob", ".rglob",
                           ".iterdir")),
    ("reads package metadata", ("importlib.metadata.", "importlib_metadata.", "importlib.resources.")),
    ("inspects source code", ("inspect.signature", "inspect.getsource", "inspect.getmembers",
                              "typing.get_type_hints")),
    ("reads a file", ("open", "io.open", "codecs.open", ".read_text", ".read_bytes")),
)
HASHABLE_ANNOTATIONS = frozenset({
    "str", "int", "float", "bool", "bytes", "tuple", "Tuple", "frozenset", "FrozenSet", "Path", "PurePath",
    "PurePosixPath", "None", "Optional", "Literal", "type",
})


def _matches(name: str, patterns: frozenset[str] | tuple[str, ...]) -> bool:
    return name in patterns or any(p.endswith(".*") and name.startswith(p[:-1]) for p in patterns)


class Purity:
    """Purity judgements for the module-level functions of one module."""

    def __init__(self, module: Scope) -> None:
        self.module = module
        self._pure: dict[int, bool] = {}  #: by id of the def node: a method may share a function's name
        self.module_writes_files = any(_writes(call) for scope in _all_scopes(module) for call, _ in scope.calls)

    # -- names -----------------------------------------------------------------

    def resolve(self, dotted: str) -> str | None:
        """The standard dotted name a module-level import makes ``dotted`` refer to."""
        root, _, rest = dotted.partition(".")
        bindings = self.module.bindings.get(root, [])
        if len(bindings) != 1 or bindings[0].kind != "import":
            return None
        statement = bindings[0].value
        for alias in statement.names:
            bound = alias.asname.name.value if alias.asname is not None else call_name(alias.name).split(".")[0]
            if bound != root:
                continue
            full = call_name(alias.name)
            if isinstance(statement, cst.ImportFrom):
                if statement.relative or statement.module is None:
                    return None
                full = f"{call_name(statement.module)}.{full}"
            elif alias.asname is None:
                full = root
            return f"{full}.{rest}" if rest else full
        return None

    def constant(self, name: str) -> bool:
        """A module-level name bound once to an immutable value."""
        bindings = self.module.bindings.get(name, [])
        if any(name in s.declared for s in _all_scopes(self.module)):
            return False
        return len(bindings) == 1 and bindings[0].kind in ("assign", "annassign") and self.immutable(bindings[0].value)

    def immutable(self, node: Any) -> bool:
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float, cst.FormattedString)):
            return True
        if isinstance(node, cst.Name):
            return node.value in ("None", "True", "False", "__file__", "__name__") or self.constant(node.value)
        if isinstance(node, cst.Tuple):
            return all(self.immutable(e.value) for e in node.elements)
        if isinstance(node, cst.BinaryOperation):
            return self.immutable(node.left) and self.immutable(node.right)
        if isinstance(node, cst.Attribute):
            return self.immutable(node.value) or (self.resolve(call_name(node)) or "") in READ_ATTRS
        if isinstance(node, cst.Call):
            name = call_name(node)
            resolved = name if name in ("frozenset", "tuple", "str") else self.resolve(name) or ""
            if isinstance(node.func, cst.Attribute) and not name:
                return self.immutable(node.func.value) and node.func.attr.value in ("parent", "joinpath", "resolve")
            return (resolved in IMMUTABLE_RESULTS or resolved in ("frozenset", "tuple")) and all(
                self.immutable(a.value) for a in node.args)
        return False

    # -- functions --------------------------------------------------------------

    def is_pure(self, function: Scope) -> bool:
        key = id(function.node)
        if key not in self._pure:
            self._pure[key] = True  # recursion: assume pure while checking
            self._pure[key] = self._check(function)
        return self._pure[key]

    def _check(self, function: Scope) -> bool:
        if function.declared or any(c.kind != "lambda" for c in function.children):
            return False
        params = function.node.params
        if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
            return False
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None and not self.immutable(param.default):
                return False
        scopes = [function, *function.children]
        for store, _ in (s for scope in scopes for s in scope.stores):
            if not self._local_root(store, function):
                return False
        raised = _raised_calls(function.node.body)  # building an exception to raise is not an effect
        for scope in scopes:
            if not all(id(call) in raised or self._call_ok(call, function) for call, _ in scope.calls):
                return False
            if not all(self._name_ok(node.value, function, scope) for node, _ in scope.names):
                return False
        return self._attributes_ok(function)

    def _local_root(self, node: Any, function: Scope) -> bool:
        while isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        if not isinstance(node, cst.Name):
            return False
        bindings = function.bindings.get(node.value, [])
        return bool(bindings) and all(b.kind != "param" for b in bindings)

    def _name_ok(self, name: str, function: Scope, scope: Scope) -> bool:
        if name in scope.bindings or name in function.bindings:
            return True
        bindings = self.module.bindings.get(name)
        if bindings is None:
            return name in ("__file__", "__name__") or (hasattr(builtins, name) and name not in _IMPURE_BUILTINS)
        if len(bindings) != 1:
            return False
        kind = bindings[0].kind
        return kind in ("def", "class", "import") or self.constant(name)

    def _call_ok(self, call: Any, function: Scope) -> bool:
        dotted = call_name(call)
        if not dotted:
            func = call.func
            if isinstance(func, cst.Attribute):
                if func.attr.value == "open":
                    return _read_mode(call, 0)
                return func.attr.value not in SIDE_EFFECT_METHODS
            return False
        root, _, rest = dotted.partition(".")
        method = dotted.rsplit(".", 1)[-1]
        local = function.bindings.get(root)
        if local is not None:
            if not rest:
                return False  # calling a local or parameter: unknown callable
            if any(b.kind == "param" for b in local):
                return method in READ_METHODS
            return method not in SIDE_EFFECT_METHODS and (method != "open" or _read_mode(call, 0))
        module_bindings = self.module.bindings.get(root)
        if module_bindings is None:
            if root == "open" and not rest:
                return _read_mode(call, 1)
            return (not rest and root in PURE_BUILTINS) or (root in ("str", "bytes", "dict", "int") and bool(rest))
        if len(module_bindings) != 1:
            return False
        binding = module_bindings[0]
        if binding.kind == "def" and not rest:
            scope = next((s for s in self.module.children if s.node is binding.value), None)
            return scope is not None and not scope.awaits and self.is_pure(scope)
        if binding.kind == "import":
            resolved = self.resolve(dotted)
            return resolved is not None and _matches(resolved, PURE_CALLS) and (
                resolved not in ("io.open", "codecs.open") or _read_mode(call, 1))
        if binding.kind in ("assign", "annassign") and rest and self.constant(root):
            return method not in SIDE_EFFECT_METHODS
        return False

    def _attributes_ok(self, function: Scope) -> bool:
        """Module attributes read without a call must be constants (not os.environ, sys.argv)."""
        for node, ancestors in walk(function.node.body):
            if not isinstance(node, cst.Attribute) or (ancestors and isinstance(ancestors[-1], cst.Attribute)):
                continue
            if ancestors and isinstance(ancestors[-1], cst.Call) and ancestors[-1].func is node:
                continue
            resolved = self.resolve(call_name(node)) if call_name(node) else None
            if resolved is not None and resolved not in READ_ATTRS and not resolved.startswith(READ_ATTR_MODULES):
                return False
        return True

    # -- work ---------------------------------------------------------------------

    def returns_immutable(self, function: Scope) -> bool:
        """Every ``return`` gives an immutable value (callers cannot spoil a cached one)."""
        values = [r.value for r in function.returns]
        return bool(values) and all(v is not None and self._immutable_result(v, function) for v in values)

    def _immutable_result(self, node: Any, function: Scope) -> bool:
        if isinstance(node, cst.Name) and node.value in function.bindings:
            bindings = function.bindings[node.value]
            return all(b.kind in ("assign", "annassign") and self._immutable_result(b.value, function) for b in bindings)
        if isinstance(node, cst.Call):
            dotted = call_name(node)
            resolved = self.resolve(dotted) if dotted else None
            return (resolved or dotted) in IMMUTABLE_RESULTS
        if isinstance(node, cst.Tuple):
            return all(self._immutable_result(e.value, function) for e in node.elements)
        if isinstance(node, cst.BinaryOperation):
            return self._immutable_result(node.left, function) and self._immutable_result(node.right, function)
        if isinstance(node, cst.IfExp):
            return self._immutable_result(node.body, function) and self._immutable_result(node.orelse, function)
        return self.immutable(node)

    def work_done(self, function: Scope) -> list[str]:
        """What costly work the function does, as short phrases (empty: none)."""
        names = set()
        for scope in (function, *function.children):
            for call, _ in scope.calls:
                dotted = call_name(call)
                resolved = self.resolve(dotted) if dotted else None
                if resolved is None and dotted and dotted not in self.module.bindings:
                    resolved = dotted if "." not in dotted else None
                names.add(resolved or "")
                if isinstance(call.func, cst.Attribute):
                    names.add("." + call.func.attr.value)
        found = [label for label, patterns in _WORK if any(n == p or (p.endswith(".") and n.startswith(p)) for n in names for p in patterns)]
        if "reads and parses a file" in found and "reads a file" in found:
            found.remove("reads a file")
        reads = any(n in ("open", "io.open", "codecs.open", ".read_text", ".read_bytes") for n in names)
        if "reads and parses a file" in found and not reads:
            found.remove("reads and parses a file")  # parsing a string argument: keyed by it
        if self._builds_table(function):
            found.append("builds a constant table")
        if found == ["compiles regular expressions"] and not self._compiles_several(function):
            return []  # re keeps its own cache: one compile per call costs ~1 µs
        return found

    def _compiles_several(self, function: Scope) -> bool:
        compiles = [loops for scope in (function, *function.children) for call, loops in scope.calls
                    if call_name(call) and self.resolve(call_name(call)) == "re.compile"]
        return len(compiles) > 1 or any(compiles)

    def _builds_table(self, function: Scope) -> bool:
        params = {n for n, bs in function.bindings.items() if any(b.kind == "param" for b in bs)}
        comprehensions = {cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp}
        displays = {cst.Dict, cst.List, cst.Set}
        for node in descendants(function.node.body):
            iterable = None
            kind = type(node)  # exact types: isinstance() on libcst's ABCs is slow, and this sees every node
            if kind is cst.For and not small_literal_loop(node):
                iterable = node.iter
            elif kind in comprehensions:
                iterable = node.for_in.iter
            elif kind in displays and len(node.elements) >= 16:
                return True
            if iterable is None:
                continue
            used = {n.value for n in descendants(iterable) if isinstance(n, cst.Name)}
            if used and not used & params and all(n not in function.bindings for n in used) and all(
                    self._name_ok(n, function, function) for n in used):
                return True
        return False


def _raised_calls(body: Any) -> set[int]:
    """ids of the calls that build the exception of a ``raise`` (not its arguments' calls)."""
    found = set()
    for node in descendants(body):
        if isinstance(node, cst.Raise) and isinstance(node.exc, cst.Call):
            found.add(id(node.exc))
    return found


def _all_scopes(scope: Scope) -> list[Scope]:
    found = [scope]
    for child in scope.children:
        found.extend(_all_scopes(child))
    return found


def _read_mode(call: Any, position: int) -> bool:
    """An ``open()`` call whose mode is a literal without w, a, x or +."""
    mode = None
    for index, arg in enumerate(call.args):
        if (arg.keyword is not None and arg.keyword.value == "mode") or (arg.keyword is None and index == position):
            mode = arg.value
    if mode is None:
        return True
    return isinstance(mode, cst.SimpleString) and not set("wax+") & set(mode.evaluated_value)


def _writes(call: Any) -> bool:
    """Does this call write, create or delete files?"""
    func = call.func
    method = func.attr.value if isinstance(func, cst.Attribute) else call_name(call)
    if method in ("write_text", "write_bytes", "mkdir", "makedirs", "unlink", "remove", "rmdir", "touch",
                  "rename", "rmtree", "copyfile", "copy", "move", "dump"):
        return method not in ("remove", "copy") or isinstance(func, cst.Attribute) and call_name(func.value) in ("os", "shutil")
    if method == "open" or call_name(call) in ("open", "io.open", "codecs.open"):
        return not _read_mode(call, 1 if isinstance(func, cst.Name) else 0)
    return False
