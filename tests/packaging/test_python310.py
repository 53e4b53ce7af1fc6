"""The box runs Python 3.10 (JetPack 6): edge/ must not use 3.11+ syntax or standard library.

An AST scan, so that it runs under any newer Python. What it cannot see: a third-party API that the
versions installable on 3.10 lack (av 18 needs Python 3.11, so the box gets av 17.1.0); only running the
tests under Python 3.10 shows those.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest
from workspace import REPO

NEWER_MODULES = {"tomllib": "3.11", "wsgiref.types": "3.11"}
NEWER_NAMES = {  # module -> {name: version}
    "typing": dict.fromkeys(["Self", "LiteralString", "Never", "assert_never", "assert_type", "reveal_type", "TypeVarTuple",
                             "Unpack", "Required", "NotRequired", "dataclass_transform", "get_overloads", "clear_overloads"],
                            "3.11") | dict.fromkeys(["override", "TypeAliasType"], "3.12"),
    "asyncio": dict.fromkeys(["TaskGroup", "timeout", "timeout_at", "Runner", "Timeout"], "3.11"),
    "datetime": {"UTC": "3.11"},
    "enum": dict.fromkeys(["StrEnum", "ReprEnum", "verify", "EnumCheck", "global_enum", "member", "nonmember"], "3.11"),
    "hashlib": {"file_digest": "3.11"},
    "contextlib": {"chdir": "3.11"},
    "operator": {"call": "3.11"},
    "itertools": {"batched": "3.12"},
}
NEWER_BUILTINS = {"ExceptionGroup": "3.11", "BaseExceptionGroup": "3.11"}


def newer_uses(path: Path, root: Path = REPO) -> list[str]:
    source = path.read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(source, str(path), feature_version=(3, 10))  # best effort: newer grammar is refused
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> module
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in NEWER_MODULES:
                    found.append(f"{where}: import {alias.name} (Python {NEWER_MODULES[alias.name]})")
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in NEWER_MODULES:
                found.append(f"{where}: from {node.module} (Python {NEWER_MODULES[node.module]})")
            for alias in node.names:
                version = NEWER_NAMES.get(node.module, {}).get(alias.name)
                if version:
                    found.append(f"{where}: from {node.module} import {alias.name} (Python {version})")
        elif type(node).__name__ == "TryStar":
            found.append(f"{where}: except* (Python 3.11)")
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
            found.append(f"{where}: {node.id} (Python {NEWER_BUILTINS[node.id]})")
        elif isinstance(node, ast.Attribute) and node.attr == "add_note":
            found.append(f"{where}: .add_note() (Python 3.11)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            version = NEWER_NAMES.get(aliases[node.value.id], {}).get(node.attr)
            if version:
                found.append(f"{path.relative_to(root)}:{node.lineno}: {aliases[node.value.id]}.{node.attr} (Python {version})")
    return found


def test_edge_uses_nothing_newer_than_python_3_10():
    problems = [problem for path in sorted((REPO / "edge").rglob("*.py")) for problem in newer_uses(path)]
    assert problems == []


@pytest.mark.parametrize("code, expected", [
    ("import tomllib\n", "import tomllib"),
    ("from typing import Self\n", "from typing import Self"),
    ("import datetime as dt\nnow = dt.UTC\n", "datetime.UTC"),
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "except*"),
    ("raise ExceptionGroup('x', [])\n", "ExceptionGroup"),
])
def test_the_scan_finds_newer_uses(tmp_path, code, expected):
    path = tmp_path / "probe.py"
    path.write_text(code, encoding="utf-8")
    try:
        problems = newer_uses(path, tmp_path)
    except SyntaxError as exc:  # what feature_version refuses outright counts as found
        problems = [f"{expected}: {exc.msg}"]
    assert any(expected in problem for problem in problems), problems
