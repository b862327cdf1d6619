"""The test files the conventions table cites, copied into the report as pages of their own
(``tests/<file>.html``), each top-level definition under an anchor of its name, so that a row's link to its
test resolves inside the report's folder: a report zipped, mailed or published keeps every link.

    page_of("parity_tests/test_optimizers.py")   # "tests/test_optimizers.html"
    href_of("parity_tests/test_optimizers.py::test_x")   # "tests/test_optimizers.html#test_x"
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from reports.conventions import ROOT

FOLDER = "tests"  # inside the report


def page_of(path: str) -> str:
    return f"{FOLDER}/{Path(path).stem}.html"


def href_of(node_id: str) -> str:
    path, _, name = node_id.partition("::")
    return f"{page_of(path)}#{name}"


@dataclass
class Listing:
    """A whole source file cut before each top-level def and class: ``chunks`` (anchor or None, text), the
    comment lines right above a definition kept with it."""

    path: str  # relative to the repository
    chunks: list[tuple[str | None, str]]


def listing(path: str, root: Path = ROOT) -> Listing:
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    starts = []  # (0-based first line, name)
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            floor = starts[-1][0] + 1 if starts else 0
            while first > floor and lines[first - 1].lstrip().startswith("#"):
                first -= 1
            starts.append((first, node.name))
    bounds = [first for first, _ in starts] + [len(lines)]
    chunks = [(None, "\n".join(lines[:bounds[0]]))] if bounds[0] else []
    chunks += [(name, "\n".join(lines[first:end])) for (first, name), end in zip(starts, bounds[1:])]
    return Listing(path, chunks)


def cited(node_ids: list[str]) -> list[str]:
    """The distinct files of ``node_ids``, in first-cited order."""
    return list(dict.fromkeys(node_id.partition("::")[0] for node_id in node_ids))
