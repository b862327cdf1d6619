"""The report's pages as self-contained HTML: inline CSS, PNGs as base64 data URIs, code highlighted by
pygments (one embedded style block), no scripts; nothing is fetched at view time.  Wide tables and code
scroll or wrap inside their own boxes, so a page is never wider than its window."""
from __future__ import annotations

import base64
import html
from functools import singledispatch

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from reports.cited_tests import Listing
from reports.code_sections import AlignedCode
from reports.document import Cell, Failures, Folded, Images, Section, Table, Text
from reports.heatmap import DEEPEST, HeatMap
from triptych.tolerances import RUNGS

FORMATTER = HtmlFormatter(style="default", nowrap=True)
HANG = 4  # a wrapped code line continues this many characters right of its own indentation
DEEPEST_HANG = 24  # … of at most this much: a deeper (aligned continuation) line hangs here, so a narrow cell
                   # never has to be wider than the hang

# the heat map's greens, from "just inside the tolerance" (g0) to DEEPEST orders below it, then exact agreement
GREENS = ("#f7fcb9", "#d9f0a3", "#addd8e", "#78c679", "#5cb86a", "#41ab5d", "#2f9950", "#238443", "#107a3d",
          "#006837", "#005a30")  # DEEPEST + 1 of them
HEAT_CSS = "\n".join(f".heat .g{i} {{ background: {c};{' color: #fff;' if i >= 5 else ''} }}"
                     for i, c in enumerate(GREENS))

CSS = """
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1500px; padding: 0 1.5em 3em;
       overflow-wrap: break-word; }
h1 { margin: 1em 0 .2em; } h2 { border-bottom: 2px solid #ddd; padding-top: .6em; }
nav { margin: .4em 0 1em; line-height: 1.9; } nav a { margin-right: 1em; white-space: nowrap; }
nav .here { font-weight: 700; margin-right: 1em; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: 14px; }
caption { text-align: left; font-weight: 600; padding: .3em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.pass { background: #e3f4e3; color: #185c18; } td.fail { background: #fbe0e0; color: #8a1111; font-weight: 600; }
td.info { color: #666; }
.failure { border: 2px solid #c33; background: #fff4f4; padding: .5em 1em; margin: .6em 0; }
.failure pre { white-space: pre-wrap; font-size: 12px; }
details { margin: .3em 0; } summary { cursor: pointer; }
.plots { display: flex; flex-wrap: wrap; gap: 1%; }
.plots img { max-width: 49%; height: auto; } .plots img:only-child { max-width: 100%; }
table.conventions { table-layout: fixed; width: 100%; }
.conventions th:nth-child(1) { width: 12%; } .conventions th:nth-child(5) { width: 26%; }
.conventions td:nth-child(5) { overflow-wrap: anywhere; font-size: 13px; }
table.calls { table-layout: fixed; width: 100%; font-size: 13px; }
.calls th:nth-child(1) { width: 10%; } .calls td { font-family: ui-monospace, monospace; font-size: 12px; }
table.curriculum { table-layout: fixed; width: 100%; font-size: 13px; }
.curriculum th:nth-child(1) { width: 8%; } .curriculum th:nth-child(2) { width: 16%; }
.curriculum th:nth-child(3) { width: 14%; } .curriculum th:nth-child(4) { width: 16%; }
.curriculum th:nth-child(n+5):nth-child(-n+8) { width: 7%; } .curriculum th:nth-child(9) { width: 12%; }
table.heat { font-size: 12px; margin-bottom: .4em; }
.heat th, .heat td { padding: 2px 3px; text-align: center; }
.heat td { min-width: 2.6em; font-variant-numeric: tabular-nums; }
.heat tbody th { text-align: left; white-space: nowrap; }
.heat .first { border-left: 2px solid #666; }
.heat .fail { background: #d73027; color: #fff; font-weight: 700; }
.heat .info { background: #e6e6e6; color: #555; }
.heat .exact { background: #00331f; color: #fff; font-weight: 700; }
.heat .none { background: #fff; color: #bbb; }
.legend { display: flex; flex-wrap: wrap; gap: 2px; font-size: 12px; margin: .2em 0 1em; }
.legend span { padding: 1px 6px; border: 1px solid #ccc; }
.aligned { margin: .5em 0 2em; }
.aligned .row { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .6em; }
.aligned .files { position: sticky; top: 0; background: #fff; z-index: 1; padding: .3em 0;
                  border-bottom: 2px solid #ddd; font-weight: 600; }
.aligned .files code { font-weight: 400; }
.aligned h3 { margin: 1em 0 .3em; font-size: 15px; background: #f3f3f3; padding: .2em .5em; }
.aligned .cell { min-width: 0; border: 1px solid #ddd; background: #fafafa; }
.aligned pre { margin: 0; padding: .4em .5em; font-size: 12px; line-height: 1.35; white-space: pre-wrap;
               overflow-wrap: anywhere; }
.aligned .ln { display: block; min-height: 1.35em; padding-left: calc((var(--i) + HANG) * 1ch);
               text-indent: calc(-1ch * (var(--i) + HANG)); }
.aligned .missing { color: #8a1111; padding: .4em .5em; font-size: 13px; }
.aligned .stands { background: #fff; border-style: dashed; font-size: 13px; }
.aligned .stands > details > summary, .aligned .stands .none { padding: .3em .5em; color: #444; }
.aligned .stands summary code { font-size: 12px; }
.defs { list-style: none; margin: 0; padding: 0 0 0 .6em; }
.defs li { margin: .15em 0; } .defs pre { border-left: 3px solid #ddd; background: #fafafa; }
.defs .uses { color: #666; padding: .2em 0 0 .5em; }
.listing pre { margin: 0; padding: .2em .5em; font-size: 12px; line-height: 1.35; white-space: pre-wrap;
               overflow-wrap: anywhere; }
.listing .ln { display: block; min-height: 1.35em; padding-left: calc((var(--i) + HANG) * 1ch);
               text-indent: calc(-1ch * (var(--i) + HANG)); }
.listing .chunk { border-left: 3px solid transparent; }
.listing .chunk:target { border-left-color: #e6a800; background: #fffbe6; }
""".replace("HANG", str(HANG))


def render(sections: list[Section], title: str, subtitle: str, nav: list[tuple[str, str | None]] = ()) -> str:
    """One whole page.  ``nav``: (label, href) links to the other pages (href None marks this page),
    followed by links to this page's sections."""
    pages = " ".join(f'<a href="{html.escape(href)}">{html.escape(label)}</a>' if href
                     else f'<span class="here">{html.escape(label)}</span>' for label, href in nav)
    here = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    body = "\n".join(_section(s) for s in sections)
    head = (f'<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n"
            f"<style>{CSS}\n{HEAT_CSS}\n{FORMATTER.get_style_defs('.highlight')}</style>")
    navs = (f"<nav>{pages}</nav>\n" if pages else "") + f"<nav>On this page: {here}</nav>"
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n{head}\n</head>\n<body>\n<h1>{html.escape(title)}</h1>\n'
            f"<p>{html.escape(subtitle)}</p>\n{navs}\n{body}\n</body>\n</html>\n")


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
    css = f' class="{block.css}"' if block.css else ""
    return f'<div class="scroll"><table{css}>{caption}\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody></table></div>'


def _cell(cell: Cell) -> str:
    text = html.escape(cell.text).replace("\n", "<br>")
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
                     f"<code>{html.escape(f.message)}</code>"
                     + (f"\n<details><summary>traceback</summary><pre>{html.escape(f.traceback)}</pre></details>"
                        if f.traceback else "") + "</div>" for f in block.failures)


@_block.register
def _(block: Folded) -> str:
    anchor = f' id="{html.escape(block.anchor)}"' if block.anchor else ""
    inner = "\n".join(_block(b) for b in block.blocks)
    return f"<details{anchor}><summary>{html.escape(block.summary)}</summary>\n{inner}\n</details>"


# ---------------------------------------------------------------- the parity heat map


@_block.register
def _(block: HeatMap) -> str:
    columns = block.columns
    firsts = {i for i, c in enumerate(columns) if i == 0 or (c.dtype, c.rung) != (columns[i - 1].dtype,
                                                                                   columns[i - 1].rung)}

    def groups(key):
        spans: list[list] = []
        for i, c in enumerate(columns):
            if spans and spans[-1][0] == key(c):
                spans[-1][1] += 1
            else:
                spans.append([key(c), 1, i])
        return spans

    dtypes = "".join(f'<th colspan="{n}" class="first">{html.escape(d)}</th>' for d, n, _ in groups(lambda c: c.dtype))
    rungs = "".join(f'<th colspan="{n}" class="first" title="rung {rung} {html.escape(RUNGS.get(rung, ""))}">'
                    f"{rung} {html.escape(RUNGS.get(rung, '') if n > 1 else '')}</th>"
                    for (_, rung), n, _ in groups(lambda c: (c.dtype, c.rung)))
    first = ' class="first"'
    pairs = "".join(f'<th{first if i in firsts else ""} title="{html.escape(c.pair)}">{html.escape(c.pair_short)}</th>'
                    for i, c in enumerate(columns))
    rows = []
    for row in block.rows:
        name = html.escape(row.model)
        name = f'<a href="{html.escape(row.href)}">{name}</a>' if row.href else name
        cells = []
        for i, (column, cell) in enumerate(zip(columns, row.cells)):
            edge = " first" if i in firsts else ""
            if cell is None:
                cells.append(f'<td class="none{edge}" title="{html.escape(row.model)}: not measured">·</td>')
            else:
                cells.append(f'<td class="{cell.shade}{edge}" title="{html.escape(cell.title(row.model, column))}">'
                             f"{html.escape(cell.label)}</td>")
        failed = ' <span title="the ladder failed to run: see the model\'s page">(failed)</span>' if row.failed else ""
        rows.append(f"<tr><th>{name}{failed}</th>{''.join(cells)}</tr>")
    legend = ('<div class="legend heat"><span class="fail">&gt; 0 fails</span>'
              + "".join(f'<span class="g{i}">{_legend_label(i)}</span>' for i in range(DEEPEST + 1))
              + '<span class="exact">= exactly equal</span><span class="info">— reported only</span>'
              '<span class="none">· not run</span></div>')
    pairs_key = ", ".join(dict.fromkeys(f"{c.pair_short} {c.pair}" for c in columns))
    return (f'<div class="scroll"><table class="heat">\n<thead><tr><th rowspan="3">model</th>{dtypes}</tr>\n'
            f"<tr>{rungs}</tr>\n<tr>{pairs}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + f"\n</tbody></table></div>\n{legend}\n<p class=\"key\">Pairs: {html.escape(pairs_key)}.</p>")


def _legend_label(i: int) -> str:
    return f"≤ −{i}" if i == DEEPEST else ("0 to −1" if i == 0 else f"−{i} to −{i + 1}")


# ---------------------------------------------------------------- the code, section by section


@_block.register
def _(block: AlignedCode) -> str:
    files = "".join(f"<div>{html.escape(f.framework)}: <code>{html.escape(f.path)}</code></div>" for f in block.files)
    parts = ['<div class="aligned">', f'<div class="row files">{files}</div>']
    if block.whole:
        headers = [f.sections.header if f.sections else None for f in block.files]  # None: file not found
        parts.append("<details><summary>docstring and imports</summary>\n"
                     f'<div class="row">{"".join(_code_cell(h, "file not found") for h in headers)}</div></details>')
        parts.append(f'<div class="row">{"".join(_stands_on_cell(f) for f in block.files)}</div>')
    for name in block.sections:
        cells = "".join(_code_cell(f.sections.parts.get(name), f"no “# ---- {name}” section in this file")
                        if f.sections else _code_cell(None, "file not found") for f in block.files)
        anchor = f' id="{html.escape(block.anchor)}-{name}"' if block.anchor else ""
        heading = f"<h3{anchor}>{html.escape(name)}</h3>\n" if block.whole else ""
        parts.append(f'{heading}<div class="row">{cells}</div>')
    return "\n".join(parts) + "\n</div>"


def _stands_on_cell(file) -> str:
    """Folded under a file's column: the shared project code the file uses, each definition with its source."""
    if file.sections is None:
        return '<div class="cell"></div>'
    count = _count(file.stands_on)
    if not count:
        return '<div class="cell stands"><div class="none">stands on no shared project code</div></div>'
    names = ", ".join(d.name for d in file.stands_on)
    return (f'<div class="cell stands"><details><summary>stands on {count} shared definition'
            f'{"s" if count > 1 else ""}: <code>{html.escape(names)}</code></summary>\n'
            f"{_definitions(file.stands_on)}</details></div>")


def _count(definitions) -> int:
    return sum(1 + _count(d.uses) for d in definitions)


def _definitions(definitions) -> str:
    items = []
    for d in definitions:
        uses = (f'<div class="uses">which uses:</div>{_definitions(d.uses)}' if d.uses else "")
        items.append(f"<li><details><summary><code>{html.escape(d.name)}</code> · {d.kind} · "
                     f"<code>{html.escape(d.path)}:{d.line}</code></summary>"
                     f'<pre class="highlight">{highlighted_lines(d.source)}</pre>{uses}</details></li>')
    return f'<ul class="defs">{"".join(items)}</ul>'


@_block.register
def _(block: Listing) -> str:
    chunks = []
    for anchor, text in block.chunks:
        ident = f' id="{html.escape(anchor)}"' if anchor else ""
        chunks.append(f'<div class="chunk"{ident}><pre class="highlight">{highlighted_lines(text)}</pre></div>')
    return (f"<p>A copy of <code>{html.escape(block.path)}</code>, made when the report was written.</p>\n"
            f'<div class="listing">{"".join(chunks)}</div>')


def _code_cell(text: str | None, missing: str) -> str:
    if text is None:
        return f'<div class="cell"><div class="missing">({html.escape(missing)})</div></div>'
    return f'<div class="cell"><pre class="highlight">{highlighted_lines(text)}</pre></div>'


def highlighted_lines(text: str) -> str:
    """Pygments' HTML for ``text``, one block per source line carrying its indentation (``--i``, at most
    DEEPEST_HANG), so that a wrapped line continues HANG characters right of where it began."""
    raw = text.expandtabs(4).split("\n")
    lines = highlight("\n".join(raw), PythonLexer(stripnl=False), FORMATTER).rstrip("\n").split("\n")
    if len(lines) != len(raw):  # never expected; fall back to unindented lines
        raw = [""] * len(lines)
    return "".join(f'<span class="ln" style="--i:{min(len(r) - len(r.lstrip(" ")), DEEPEST_HANG)}">{line}</span>'
                   for r, line in zip(raw, lines))
