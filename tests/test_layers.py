"""The one-way flow of ``edge/`` (DESIGN.md, STYLE.md): read every import, lazy ones included.

A stage never imports a later stage, the service or the CLI; no two packages import each other,
directly or round a longer loop; ``edge/`` never imports ``export/`` or ``tools/``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

EDGE = Path(__file__).resolve().parents[1] / "edge"

# Each top-level module or package of edge/ by its place in the data flow: it may import only
# what ranks lower (or equal, if no loop forms). A new package must be given its place here.
RANK = {
    # foundations: values, errors, typed configuration, small shared helpers
    "errors": 0, "types": 0, "files": 0, "bundled": 0, "registry": 0, "closing": 0, "yamlfile": 0, "timing": 0,
    "text": 0, "numbers": 0, "validation": 0,
    "config": 1,
    # model execution (ONNX Runtime, TensorRT, the model pack), and building engines on the box
    "runtime": 2, "engines": 3,
    # the stages, in the order data flows through them
    "sources": 10, "detect": 11, "score": 12, "select": 13, "ocr": 14, "asr": 14, "evidence": 15, "claims": 15, "fusion": 16,
    # assembly and the programs on top
    "window": 20, "pipeline": 21, "service": 22, "transport": 22, "centre": 25, "cli": 30,
}


def unit_of(module: str) -> str | None:
    """``edge.detect.onnx_dfine`` -> ``detect``; None for modules outside edge/ and for ``edge`` itself."""
    parts = module.split(".")
    return parts[1] if parts[0] == "edge" and len(parts) > 1 else None


def edge_modules() -> dict[str, Path]:
    modules = {}
    for path in EDGE.rglob("*.py"):
        parts = path.relative_to(EDGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def imports_of(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (a lazy import is still a dependency)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("edge.") and ":" in node.value:
            found.add(node.value.split(":")[0])  # a backend registry entry, "edge.asr.whisper:WhisperTranscriber"
    return found


def unit_graph() -> dict[str, dict[str, list[str]]]:
    """unit -> {imported unit: [modules that import it]} over edge/ (the package root left out)."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    modules = edge_modules()
    units = {unit_of(module) for module in modules} - {None}
    for module, path in modules.items():
        source = unit_of(module)
        if source is None:
            continue
        for target in imports_of(path, module):
            unit = unit_of(target)  # "edge.__version__" names no unit: the root package, left out
            if unit in units and unit != source:
                graph[source][unit].append(module)
    return graph


def test_every_package_has_a_place_in_the_flow():
    units = {unit_of(module) for module in edge_modules()} - {None}
    assert units - set(RANK) == set(), "give each new package of edge/ its place in RANK"


def test_no_stage_imports_a_later_stage_the_service_or_the_cli():
    backwards = [
        f"{module} imports edge.{target} ({RANK[target]} > {RANK[source]})"
        for source, targets in unit_graph().items()
        for target, importers in targets.items()
        if RANK.get(target, 99) > RANK.get(source, -1)
        for module in importers
    ]
    assert backwards == []


def test_no_import_cycle_between_packages():
    graph = unit_graph()
    cycles = []

    def visit(unit: str, path: list[str]) -> None:
        for target in graph.get(unit, {}):
            if target in path:
                cycle = path[path.index(target):] + [target]
                if cycle[0] == min(cycle[:-1]):  # report each loop once
                    cycles.append(" -> ".join(cycle))
            else:
                visit(target, path + [target])

    for unit in list(graph):
        visit(unit, [unit])
    assert cycles == []


def test_edge_never_imports_the_training_side_or_the_tools():
    offenders = [
        f"{module} imports {target}"
        for module, path in edge_modules().items()
        for target in imports_of(path, module)
        if target.split(".")[0] in ("export", "tools", "livebench", "livegen")
    ]
    assert offenders == []


def test_the_walk_sees_lazy_imports_and_registry_entries(tmp_path):
    """The check can fail: a function-level import and a registry string both count as edges."""
    module = tmp_path / "sample.py"
    module.write_text(
        "def f():\n    from edge.cli import main\n\nREGISTRY = {'x': 'edge.fusion.qwen:QwenFusion'}\n", encoding="utf-8"
    )
    found = imports_of(module, "edge.detect.sample")
    assert {"edge.cli", "edge.fusion.qwen"} <= found


@pytest.mark.parametrize("source, target", [("detect", "score"), ("ocr", "fusion"), ("fusion", "pipeline"), ("runtime", "detect")])
def test_rank_order_forbids_the_backward_edges_the_issue_named(source, target):
    assert RANK[target] > RANK[source]
