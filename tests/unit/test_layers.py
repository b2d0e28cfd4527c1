"""The import graph reads top to bottom (docs/architecture.md): the composition root (chalicelib/bootstrap.py) and
the entrypoints (chalicelib/api) above the use cases (services), which talk to adapters only through ports; the
domain imports nothing but itself. A circle between two layers is the bug this guards: once one exists, the layers
can no longer be read, tested or changed one at a time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(max(node.level - 1, 0)):
                    base = base.rpartition(".")[0]
                module = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
                for alias in node.names:
                    target = f"{module}.{alias.name}"
                    targets.add(target if target in modules else module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or module.endswith(("bootstrap", "config", "observability")) else parts[-1]


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_domain_imports_only_the_domain() -> None:
    graph = _graph()
    outside = {m: sorted(t for t in targets if not t.startswith("chalicelib.domain"))
               for m, targets in graph.items() if m.startswith("chalicelib.domain")}
    assert {m: t for m, t in outside.items() if t} == {}


def test_adapters_import_no_use_case_and_not_the_root() -> None:
    allowed = ("chalicelib.domain", "chalicelib.services.ports", "chalicelib.services.forms",
               "chalicelib.adapters", "chalicelib.config", "chalicelib.observability")
    graph = _graph()
    wrong = {m: sorted(t for t in targets if not t.startswith(allowed))
             for m, targets in graph.items() if m.startswith("chalicelib.adapters")}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_no_circle_crosses_a_layer() -> None:
    across = [sorted(c) for c in _circles(_graph()) if len({_layer(m) for m in c}) > 1]
    assert across == []


def test_the_circle_finder_finds_circles() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
