"""The "conventions that differ" table: its rows are read from docs/conventions.md, whose last column names
the test that shows each one.  A test is linked only if its function really exists in ``parity_tests/``;
the report carries a rendered copy of every file it cites (reports.cited_tests), so the links stay inside it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "conventions.md"


@dataclass
class Convention:
    cells: list[str]  # the table's row: topic, PyTorch, Keras 3, what Triptych does
    test: str | None  # node id of an existing test, None when there is none yet


def markdown_table(path: Path = TABLE) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the first Markdown table in ``path`` (inline-code backticks removed)."""
    cells = [[c.strip().replace("`", "") for c in line.strip().strip("|").split("|")]
             for line in _first_table(path.read_text(encoding="utf-8").splitlines())]
    return cells[0], cells[2:]  # cells[1] is the |---| separator


def _first_table(lines: list[str]):
    started = False
    for line in lines:
        if line.startswith("|"):
            started = True
            yield line
        elif started:
            return


def has_test(node_id: str, root: Path = ROOT) -> bool:
    """Whether ``path::function`` names a test function defined in that file."""
    path, _, name = node_id.partition("::")
    file = root / path
    return file.is_file() and re.search(rf"^\s*def {re.escape(name)}\(", file.read_text(encoding="utf-8"),
                                        re.MULTILINE) is not None


def conventions() -> tuple[list[str], list[Convention]]:
    """The table's header and rows, each with its test node id where that test exists."""
    header, rows = markdown_table()
    linked = []
    for *cells, node_id in rows:
        linked.append(Convention(cells, node_id if node_id and has_test(node_id) else None))
    return header[:-1], linked
