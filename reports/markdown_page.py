"""The report as Markdown: the same sections and tables as the HTML page; plots linked as the PNG
files beside it, code as the paths of the three source files."""
from __future__ import annotations

from functools import singledispatch

from reports.document import Cell, Code, Failures, Images, Section, Table, Text


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
def _(block: Code) -> str:
    return "Implementations: " + ", ".join(f"`{f.path}`" for f in block.files)
