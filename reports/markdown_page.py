"""The report as one Markdown document: the sections of every HTML page in page order, the same tables;
plots linked as the PNG files beside it, code as the paths of the three source files, the parity heat
map as its numbers (log10 of each figure over its tolerance, the worst pair of each rung)."""
from __future__ import annotations

from functools import singledispatch

from reports.cited_tests import Listing
from reports.code_sections import AlignedCode
from reports.document import Cell, Failures, Folded, Images, Section, Table, Text
from reports.heatmap import HeatMap


def render(sections: list[Section], title: str, subtitle: str) -> str:
    """The whole document."""
    parts = [f"# {title}", subtitle]
    for section in sections:
        parts.append(f"## {section.title}")
        parts += [_block(b) for b in section.blocks]
    return "\n\n".join(parts) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@singledispatch
def _block(block) -> str:
    raise TypeError(f"no Markdown for {type(block).__name__}")


@_block.register
def _(block: Text) -> str:
    return block.text


@_block.register
def _(block: Table) -> str:
    lines = [f"**{block.caption}**", ""] if block.caption else []
    lines += ["| " + " | ".join(map(_escape, block.header)) + " |", "|" + "---|" * len(block.header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
    return "\n".join(lines)


def _cell(cell: Cell) -> str:
    text = _escape(cell.text)
    text = f"**{text}**" if cell.status == "fail" else text
    return f"[{text}]({cell.href})" if cell.href else text


@_block.register
def _(block: Images) -> str:
    return "\n".join(f"![{p.stem}]({p.name})" for p in block.paths)


@_block.register
def _(block: Failures) -> str:
    return "\n".join(f"- **FAILED — {f.where}**: `{' '.join(f.message.split())}`" for f in block.failures)


@_block.register
def _(block: Folded) -> str:
    return "\n\n".join([f"*{block.summary}*", *(_block(b) for b in block.blocks)])


@_block.register
def _(block: AlignedCode) -> str:
    shown = "Implementations" if block.whole else f"{block.model}: {', '.join(block.sections)} in"
    return f"{shown}: " + ", ".join(f"`{f.path}`" for f in block.files)


@_block.register
def _(block: Listing) -> str:
    return f"A copy of `{block.path}`."


@_block.register
def _(block: HeatMap) -> str:
    """One column per (dtype, rung): the largest log10(figure / tolerance) over its pairs."""
    groups = list(dict.fromkeys((c.dtype, c.rung) for c in block.columns))
    lines = ["Each figure is the worst pair of its rung: log10(maximum ÷ tolerance), “=” exactly equal.", "",
             "| model | " + " | ".join(f"{d} rung {r}" for d, r in groups) + " |", "|" + "---|" * (len(groups) + 1)]
    for row in block.rows:
        worst = []
        for group in groups:
            cells = [cell for c, cell in zip(block.columns, row.cells) if (c.dtype, c.rung) == group and cell]
            checked = [cell for cell in cells if cell.orders is not None]
            worst.append(max(checked, key=lambda cell: cell.orders).label if checked else ("—" if cells else "·"))
        lines.append(f"| {row.model} | " + " | ".join(worst) + " |")
    return "\n".join(lines)
