"""The package's structure: imports go down the layers and never round in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "viewer"


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> viewer modules it imports (anywhere in the file, lazy imports included)."""
    mods = {_module(p): p for p in PKG.rglob("*.py")}
    graph = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for n in names:
                if n in mods and n != m and not (m.startswith(n + ".") or n == "viewer"):
                    graph[m].add(n)
    return graph


def test_no_import_cycles():
    graph, state, stack, cycles = import_graph(), {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


# Every module of the package has a layer; each imports only its own layer and those below.
# The root modules too: the shared foundation at the bottom, the session file format beside
# the state that saves it, the window above the state, then the API (the one front door: its
# handout is drawn by the window's Qt PDF writer) and the command line on top of it.
LAYERS = [
    ("foundation", ("viewer", "viewer.__main__", "viewer.errors", "viewer.config", "viewer.safeio",
                    "viewer.atomic", "viewer.constants")),
    ("anatomy", ("viewer.anatomy",)),
    ("referral", ("viewer.referral",)),
    ("render", ("viewer.render",)),
    ("session", ("viewer.session",)),
    ("state", ("viewer.state",)),
    ("gui", ("viewer.gui",)),
    ("api", ("viewer.api",)),
    ("cli", ("viewer.cli", "viewer.cli_referral")),
]


def layer_of(module: str) -> int:
    best = None
    for i, (_name, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if module == p or module.startswith(p + "."):
                if best is None or len(p) > best[1]:
                    best = (i, len(p))
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best[0]


def test_every_module_has_a_layer():
    for m in import_graph():
        layer_of(m)


def test_lower_layers_never_import_higher_ones():
    graph = import_graph()
    bad = [f"{m} ({LAYERS[layer_of(m)][0]}) imports {d} ({LAYERS[layer_of(d)][0]})"
           for m, deps in graph.items() for d in deps
           if m != "viewer.__main__" and layer_of(d) > layer_of(m)]
    assert not bad, bad


# -- every public function of the documented packages has a docstring -----------------------
DOCUMENTED = ("api.py", "state", "referral", "render")


def public_functions_without_docstrings() -> list[str]:
    """module:qualname of each public function, and public method of a public class, in the
    documented packages that has no docstring (read from the source with ast, nothing imported)."""
    missing = []
    for where in DOCUMENTED:
        root = PKG / where
        for path in sorted([root] if root.is_file() else root.rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members = [(node.name, node)]
                elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    members = [(f"{node.name}.{f.name}", f) for f in node.body
                               if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
                else:
                    continue
                for name, f in members:
                    if not name.split(".")[-1].startswith("_") and not ast.get_docstring(f):
                        missing.append(f"{_module(path)}:{name} (line {f.lineno})")
    return missing


def test_every_public_function_of_api_state_referral_render_has_a_docstring():
    missing = public_functions_without_docstrings()
    assert not missing, f"{len(missing)} public functions without a docstring: " + ", ".join(missing)


def test_no_command_line_flag_in_errors_raised_below_the_cli():
    """Errors raised by the library name API arguments ("point", "sha256"), never the CLI's
    flags: only viewer/cli*.py turns them into flags (ViewerError.renamed). Every string in
    the arguments of an ...Error(...) call outside the CLI is checked."""
    import re

    flag = re.compile(r"(^|[\s(`'\"])--[a-z]")
    found = []
    for path in PKG.rglob("*.py"):
        if path.name.startswith("cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", ""))
                    .endswith(("Error", "Output"))):
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for s in ast.walk(arg):
                    if isinstance(s, ast.Constant) and isinstance(s.value, str) and flag.search(s.value):
                        found.append(f"{path.relative_to(PKG.parent)}:{s.lineno}: {s.value.strip()[:60]}")
    assert found == []
