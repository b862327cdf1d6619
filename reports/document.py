"""The report's content as plain blocks (text, tables, images, failures, code), built once and
rendered twice: as HTML (reports.html_page) and as Markdown (reports.markdown_page)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.frameworks import FRAMEWORKS
from common.specs import get_spec
from reports.conventions import ROOT, conventions
from reports.run import TRAIN_DTYPE, Failure, ModelReport

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
                   quick: bool) -> list[Section]:
    """Every section of the report, in page order; ``plots`` maps each model to its PNG files."""
    mode = "quick run (few steps, small data)" if quick else "full run (the specs' default epochs)"
    summary = Section("Summary", "summary", [Text(f"{mode}; training in {TRAIN_DTYPE} from identical initial weights "
                                                  f"(scratch's, copied into torch and keras) on the same batches."),
                                             overview_table(reports)])
    return [summary, *(model_section(r, plots.get(r.model, [])) for r in reports), conventions_section(out),
            environment_section(env, reports)]


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
        blocks += [results_table(report), timing_table(report), Images(plots)]
    if report.parity:
        blocks.append(parity_table(report))
    if report.house_study:
        blocks.append(house_table(report.house_study))
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


def timing_table(report: ModelReport) -> Table:
    rows = []
    for run in report.runs.values():
        train_ratio, infer_ratio = report.ratios_to_fastest(run)
        rows.append(_cells(run.framework, f"{run.ms_per_step:.3f}", f"{train_ratio:.2f}×",
                           f"{run.train_samples_per_s:,.0f}", f"{run.infer_samples_per_s:,.0f}",
                           f"{infer_ratio:.2f}×"))
    return Table(["framework", "ms / training step", "× fastest", "training samples/s", "inference samples/s",
                  "× fastest"], rows, "Speed (training time includes setup such as graph tracing; inference: "
                                      "one predict call on the test set, best of several)")


def parity_table(report: ModelReport) -> Table:
    rows = []
    for r in report.parity:
        tol = "—" if r.tolerance is None else f"{r.tolerance:.0e}{' rel' if r.relative else ''}"
        rows.append(_cells(r.dtype, f"{r.rung} {r.rung_name}", r.pair, f"{r.value:.2e}", tol, verdict(r.passed),
                           r.detail))
    return Table(["dtype", "rung", "pair", "max difference", "tolerance", "result", "detail"], rows,
                 "Parity ladder (common.parity)")


def house_table(rows: list[dict]) -> Table:
    return Table(["variant", "framework", "parameters", "best epoch", "test MAE", "test RMSE"],
                 [_cells(r["variant"], r["framework"], r["params"], r["best_epoch"], f"{r['mae']:.3f}",
                         f"{r['rmse']:.3f}") for r in rows],
                 "House-price study (common.house): linear model, one and two hidden layers")


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
