"""The report's content as plain blocks (text, tables, images, failures, code), built once and
rendered twice: as HTML (reports.html_page) and as Markdown (reports.markdown_page)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from triptych.bench import BENCH_COLUMNS, bench_cells, bench_notes
from triptych.frameworks import FRAMEWORKS
from triptych.registry import get_spec, get_study
from reports.conventions import ROOT, conventions
from reports.run import TRAIN_DTYPE, Failure, ModelReport, StudyReport

SOURCE_DIRS = {"scratch": "scratch", "torch": "torch_impl", "keras": "keras_impl"}


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


@dataclass
class Images:
    paths: list[Path]


@dataclass
class Failures:
    failures: list[Failure]


@dataclass
class SourceFile:
    framework: str
    path: str  # relative to the repository
    text: str | None  # None when the file does not exist


@dataclass
class Code:
    files: list[SourceFile]


@dataclass
class Section:
    title: str
    anchor: str
    blocks: list = field(default_factory=list)


# ---------------------------------------------------------------- helpers


def link(path: Path | str, out: Path) -> str:
    """``path`` (relative to the repository) as a link relative to the report's folder."""
    return Path(os.path.relpath(ROOT / path, out.resolve())).as_posix()


def verdict(passed: bool | None) -> Cell:
    if passed is None:
        return Cell("reported", status="info")
    return Cell("pass", status="pass") if passed else Cell("FAIL", status="fail")


def _g(value: float) -> str:
    return f"{value:.4g}"


def _cells(*values) -> list[Cell]:
    return [v if isinstance(v, Cell) else Cell(str(v)) for v in values]


# ---------------------------------------------------------------- the document


def build_document(reports: list[ModelReport], plots: dict[str, list[Path]], env: dict[str, str], out: Path,
                   quick: bool, studies: list[StudyReport] = ()) -> list[Section]:
    """Every section of the report, in page order; ``plots`` maps each model and study to its PNG files."""
    mode = "quick run (few steps, small data)" if quick else "full run (the specs' default epochs)"
    blocks = [Text(f"{mode}; training in {TRAIN_DTYPE} from identical initial weights "
                   f"(scratch's, copied into torch and keras) on the same batches."), overview_table(reports)]
    if studies:
        blocks.append(studies_table(studies))
    return [Section("Summary", "summary", blocks), *(model_section(r, plots.get(r.model, [])) for r in reports),
            *(study_section(s, plots.get(f"study {s.study}", [])) for s in studies), conventions_section(out),
            environment_section(env, reports)]


def studies_table(studies: list[StudyReport]) -> Table:
    rows = [_cells(Cell(s.study, href=f"#study-{s.study}"), get_study(s.study).description,
                   "{}/{}".format(sum(c["passed"] for c in s.result.checks), len(s.result.checks)) if s.result
                   else "—", f"{s.seconds:.1f} s", verdict(s.ok)) for s in studies]
    return Table(["study", "what it compares", "checks passed", "time", "status"], rows, "Studies")


def study_section(report: StudyReport, plots: list[Path]) -> Section:
    spec = get_study(report.study)
    blocks = [Text(spec.description)]
    if spec.origin:
        blocks.append(Text(f"From: {spec.origin}. Teaches: {spec.teaches}."))
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
    return Section(f"Study: {report.study}", f"study-{report.study}", blocks)


def _show(value) -> str:
    return _g(value) if isinstance(value, float) else str(value)


def overview_table(reports: list[ModelReport]) -> Table:
    rows = []
    for r in reports:
        rows.append(_cells(Cell(r.model, href=f"#{r.model}"), f"{len(r.runs)}/{len(FRAMEWORKS)}",
                           "{}/{}".format(*r.parity_counts), len(r.failures),
                           f"{r.seconds:.1f} s", verdict(r.ok)))
    return Table(["model", "frameworks trained", "parity checks passed", "failures", "time", "status"], rows)


def model_section(report: ModelReport, plots: list[Path]) -> Section:
    s = report.setup
    blocks = [Text(get_spec(report.model).description),
              Text(f"Training: {s['epochs']} epochs, batch {s['batch_size']}, {s['optimizer']} lr {s['lr']}, "
                   f"seed {s['seed']}, {s['dtype']}."),
              Text(f"Data: {report.source or 'not loaded'}.")]
    if get_spec(report.model).arch.get("dropout"):
        blocks.append(Text("Training uses each framework's own random dropout masks, so these curves agree only "
                           "statistically; the parity ladder below runs with dropout off and matches step for step."))
    if report.failures:
        blocks.append(Failures(report.failures))
    if report.runs:
        blocks += [results_table(report), *speed_blocks(report.bench), Images(plots)]
    if report.parity:
        blocks.append(parity_table(report))
    blocks.append(code_block(report.model))
    return Section(report.model, report.model, blocks)


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


def code_block(model: str) -> Code:
    """The model's three source files, read now from the repository."""
    files = []
    for framework in FRAMEWORKS:
        path = f"{SOURCE_DIRS[framework]}/{model}.py"
        file = ROOT / path
        files.append(SourceFile(framework, path, file.read_text(encoding="utf-8") if file.is_file() else None))
    return Code(files)


def conventions_section(out: Path) -> Section:
    header, rows = conventions()
    cells = [_cells(*c.cells, Cell(c.test, href=link(c.test.partition("::")[0], out)) if c.test
                    else Cell("test not found", status="fail")) for c in rows]
    return Section("Conventions that differ", "conventions",
                   [Text("From README.md; each row links to the test in parity_tests/ that shows it."),
                    Table([*header, "test"], cells)])


def environment_section(env: dict[str, str], reports: list[ModelReport]) -> Section:
    rows = [_cells(k, v) for k, v in env.items()]
    rows += [_cells(f"data: {r.model}", r.source or "not loaded") for r in reports]
    return Section("Environment", "environment", [Table(["what", "value"], rows)])
