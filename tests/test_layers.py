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


def test_lower_layers_never_import_higher_ones():
    order = ["anatomy", "referral", "render", "state", "gui"]     # each knows only those below it
    graph = import_graph()
    bad = []
    for m, deps in graph.items():
        layer = next((i for i, name in enumerate(order) if m.startswith(f"viewer.{name}")), None)
        for d in deps:
            up = next((i for i, name in enumerate(order) if d.startswith(f"viewer.{name}")), None)
            if layer is not None and up is not None and up > layer:
                bad.append(f"{m} imports {d}")
    assert not bad, bad
