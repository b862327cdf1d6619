"""The report as one self-contained HTML page: inline CSS, PNGs as base64 data URIs, code
highlighted by pygments (one embedded style block); nothing is fetched at view time."""
from __future__ import annotations

import base64
import html
from functools import singledispatch

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from reports.document import Cell, Code, Failures, Images, Section, Table, Text

FORMATTER = HtmlFormatter(style="default")

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1500px; padding: 0 1.5em 3em; }
h1 { margin-top: 1em; } h2 { border-bottom: 2px solid #ddd; padding-top: .6em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 14px; }
caption { text-align: left; font-weight: 600; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.pass { background: #e3f4e3; color: #185c18; } td.fail { background: #fbe0e0; color: #8a1111; font-weight: 600; }
td.info { color: #666; }
.failure { border: 2px solid #c33; background: #fff4f4; padding: .5em 1em; margin: .6em 0; }
.failure pre { white-space: pre-wrap; font-size: 12px; }
.plots img { max-width: 49%; margin-right: 1%; }
.code { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .8em; }
.code > div { min-width: 0; }
.code .highlight { overflow-x: auto; font-size: 12px; border: 1px solid #ddd; }
.code pre { margin: 0; padding: .5em; }
"""


def render(sections: list[Section], title: str, subtitle: str) -> str:
    """The whole page."""
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    body = "\n".join(_section(s) for s in sections)
    head = (f'<meta charset="utf-8">\n<title>{html.escape(title)}</title>\n'
            f"<style>{CSS}\n{FORMATTER.get_style_defs('.highlight')}</style>")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n'
            f"<p>{html.escape(subtitle)}</p>\n<nav>{nav}</nav>\n{body}\n</body>\n</html>\n")


def _section(section: Section) -> str:
    blocks = "\n".join(_block(b) for b in section.blocks)
    return f'<section id="{section.anchor}">\n<h2>{html.escape(section.title)}</h2>\n{blocks}\n</section>'


@singledispatch
def _block(block) -> str:
    raise TypeError(f"no HTML for {type(block).__name__}")


@_block.register
def _(block: Text) -> str:
    return f"<p>{html.escape(block.text)}</p>"


@_block.register
def _(block: Table) -> str:
    caption = f"<caption>{html.escape(block.caption)}</caption>" if block.caption else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
    rows = "\n".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in block.rows)
    return f"<table>{caption}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody></table>"


def _cell(cell: Cell) -> str:
    text = html.escape(cell.text)
    if cell.href:
        text = f'<a href="{html.escape(cell.href)}">{text}</a>'
    css = f' class="{cell.status}"' if cell.status else ""
    return f"<td{css}>{text}</td>"


@_block.register
def _(block: Images) -> str:
    images = "".join(f'<img alt="{html.escape(p.stem)}" src="data:image/png;base64,'
                     f'{base64.b64encode(p.read_bytes()).decode("ascii")}">' for p in block.paths)
    return f'<div class="plots">{images}</div>'


@_block.register
def _(block: Failures) -> str:
    return "\n".join(f'<div class="failure"><strong>FAILED — {html.escape(f.where)}</strong>: '
                     f"<code>{html.escape(f.message)}</code>\n<details><summary>traceback</summary>"
                     f"<pre>{html.escape(f.traceback)}</pre></details></div>" for f in block.failures)


@_block.register
def _(block: Code) -> str:
    columns = []
    for f in block.files:
        code = (highlight(f.text, PythonLexer(), FORMATTER) if f.text is not None
                else "<p>(file not found)</p>")
        columns.append(f"<div><h4>{html.escape(f.framework)}: <code>{html.escape(f.path)}</code></h4>\n{code}</div>")
    return '<h3>The three implementations</h3>\n<div class="code">\n' + "\n".join(columns) + "\n</div>"
