"""The report's content as plain blocks (text, tables, images, failures, folded blocks, code), built once
and rendered twice: as HTML (reports.html_page) and as Markdown (reports.markdown_page).  The pages that
hold these sections are put together in reports.pages."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

from triptych.bench import BENCH_COLUMNS, bench_cells, bench_notes
from triptych.registry import get_spec, get_study
from reports.code_sections import aligned_code, shown_path
from reports.cited_tests import href_of
from reports.conventions import conventions
from reports.heatmap import parity_heatmap
from reports.run import DEFAULT_DATA_TRAINING_GFLOP, Failure, ModelReport, StudyReport


@dataclass
class Cell:
    text: str
    href: str | None = None
    status: str | None = None  # "pass" | "fail" | "info": colours the cell in HTML


@dataclass
class Text:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    css: str = ""  # an HTML class for a table laid out its own way


@dataclass
class Images:
    paths: list[Path]


@dataclass
class Failures:
    failures: list[Failure]


@dataclass
class Folded:
    """Blocks shown under a one-line summary, folded until opened (HTML ``<details>``)."""

    summary: str
    blocks: list
    anchor: str | None = None


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list = field(default_factory=list)


# ---------------------------------------------------------------- helpers


def model_page(model: str) -> str:
    return f"model-{model}.html"


def study_page(study: str) -> str:
    return f"study-{study}.html"


def source_file(function) -> Path | None:
    """The file that defines ``function``, or None."""
    path = inspect.getsourcefile(function)
    return Path(path) if path else None


def verdict(passed: bool | None) -> Cell:
    if passed is None:
        return Cell("reported", status="info")
    return Cell("pass", status="pass") if passed else Cell("FAIL", status="fail")


def _g(value: float) -> str:
    return f"{value:.4g}"


def _cells(*values) -> list[Cell]:
    return [v if isinstance(v, Cell) else Cell(str(v)) for v in values]


# ---------------------------------------------------------------- model and study sections


def study_section(report: StudyReport, plots: list[Path], pages: set[str]) -> Section:
    """The study's page body; the models it trains link to their pages when ``pages`` holds them."""
    spec = get_study(report.study)
    blocks = [Text(spec.description)]
    if spec.origin or spec.teaches:
        blocks.append(Text(f"From: {spec.origin or '—'}. Teaches: {spec.teaches or '—'}."))
    blocks.append(Table(["code", "what it is"],
                        [_cells(shown_path(source_file(spec.run)), "the study: its data, runs and checks"),
                         *(_cells(Cell(m, href=model_page(m) if model_page(m) in pages else None),
                                  "a model it trains" + (" (its page: the code side by side)"
                                                         if model_page(m) in pages else ""))
                           for m in spec.models)], "Its code"))
    if report.failures:
        blocks.append(Failures(report.failures))
    result = report.result
    if result is not None:
        blocks.append(Table(result.columns, [_cells(*(_show(row.get(c, "")) for c in result.columns))
                                             for row in result.rows], result.title))
        if result.checks:
            blocks.append(Table(["check", "measured", "target", "result"],
                                [_cells(c["what"], _show(c["value"]), c["target"], verdict(c["passed"]))
                                 for c in result.checks], "Targets"))
        blocks += [Text(note) for note in result.notes]
        blocks.append(Images(plots))
    return Section(f"Study: {report.study}", "study", blocks)


def _show(value) -> str:
    return _g(value) if isinstance(value, float) else str(value)


def _floor(spec) -> str:
    return f", but never fewer than the {spec.min_epochs} epochs its figures need" if spec.min_epochs > 1 else ""


def model_section(report: ModelReport, plots: list[Path]) -> Section:
    """The model's page body: what it is, how it trained, its figures and plots, its parity ladder (folded)."""
    spec, s = get_spec(report.model), report.setup
    blocks = [Text(spec.description)]
    if spec.origin or spec.teaches:
        blocks.append(Text(f"From: {spec.origin or '—'}. Teaches: {spec.teaches or '—'}."))
    capped = (f" (the declaration asks for {s['declared_epochs']}; on its default data the report gives each "
              f"framework at most {DEFAULT_DATA_TRAINING_GFLOP} GFLOP of training, so that it holds every model "
              f"in its time budget{_floor(spec)})" if "declared_epochs" in s else "")
    epochs = f"{s['epochs']} epoch{'' if s['epochs'] == 1 else 's'}"
    blocks += [Text(f"Training: {epochs}{capped}, batch {s['batch_size']}, {s['optimizer']} lr {s['lr']}, "
                    f"seed {s['seed']}, {s['dtype']}."),
               Text(f"Data: {report.source or 'not loaded'}.")]
    if spec.arch.get("dropout"):
        blocks.append(Text("Training uses each framework's own random dropout masks, so these curves agree only "
                           "statistically; the parity ladder below runs with dropout off and matches step for step."))
    if report.failures:
        blocks.append(Failures(report.failures))
    if report.runs:
        blocks += [results_table(report), *speed_blocks(report.bench), Images(plots)]
    if report.parity:
        passed, checked = report.parity_counts
        blocks += [Text("Parity: each cell is log10(measured maximum ÷ tolerance) for one rung and one pair of "
                        "frameworks (below 0 passes; “=” is bit-for-bit equal); hover a cell for its figures."),
                   parity_heatmap([report]),
                   Folded(f"Parity ladder: {passed} of {checked} checks pass ({len(report.parity)} figures)",
                          [parity_table(report)], "parity")]
    return Section(report.model, "model", blocks)


def code_section(model: str) -> Section:
    """The three files cut at their section markers, one row per section, with the shared code each stands on."""
    code = aligned_code(get_spec(model))
    blocks = [Text("One row per section, one column per framework: the same step said three ways. Under each "
                   "file's name, folded, is the shared code it stands on: every class, function and value of the "
                   "project it uses (and what those use in turn), with its source. The files are read from the "
                   "repository when the report is written; the idioms page sets every model's training loop, "
                   "optimizer and loss side by side.")]
    if code.problems:
        blocks.append(Failures([Failure("section markers", problem, "") for problem in code.problems]))
    return Section(f"{model}: the code, section by section", "code", [*blocks, code])


def results_table(report: ModelReport) -> Table:
    names = list(next(iter(report.runs.values())).metrics)
    show_best = any(run.best_epoch for run in report.runs.values())
    rows = []
    for run in report.runs.values():
        rows.append(_cells(run.framework, f"{run.params:,}", run.steps, _g(run.losses[-1]),
                           *(_g(run.metrics[n]) for n in names), *([run.best_epoch] if show_best else [])))
    header = ["framework", "parameters", "steps", "last training loss", *(f"test {n}" for n in names)]
    return Table(header + (["best epoch"] if show_best else []), rows, "Final metrics")


def speed_blocks(rows: list[dict]) -> list:
    """``triptych bench`` rows of one model as the speed table, with what its figures include."""
    if not rows:
        return [Text("Speed: not measured (see the failures above).")]
    header = [c for c in BENCH_COLUMNS if c != "model"]
    return [Table(header, [_cells(*bench_cells(r)[1:]) for r in rows], "Speed (triptych bench)"),
            *(Text(note) for note in bench_notes(rows))]


def parity_table(report: ModelReport) -> Table:
    rows = []
    for r in report.parity:
        tol = "—" if r.tolerance is None else f"{r.tolerance:.0e}{' rel' if r.relative else ''}"
        rows.append(_cells(r.dtype, f"{r.rung} {r.rung_name}", r.pair, f"{r.value:.2e}", tol, verdict(r.passed),
                           r.detail))
    return Table(["dtype", "rung", "pair", "max difference", "tolerance", "result", "detail"], rows,
                 "Parity ladder (triptych.parity)")


def conventions_section() -> Section:
    header, rows = conventions()
    cells = [_cells(*c.cells, Cell(c.test, href=href_of(c.test)) if c.test else Cell("test not found", status="fail"))
             for c in rows]
    return Section("Conventions that differ", "conventions",
                   [Text("From docs/conventions.md; each row links to the test that shows it, in a copy of its "
                         "file made for this report (its tests/ folder)."),
                    Table([*header, "test"], cells, css="conventions")])


def environment_section(env: dict[str, str], reports: list[ModelReport]) -> Section:
    rows = [_cells(k, v) for k, v in env.items()]
    rows += [_cells(f"data: {r.model}", r.source or "not loaded") for r in reports]
    return Section("Environment", "environment", [Table(["what", "value"], rows)])
