"""``triptych report``: run every model in every framework from identical initial weights, run the
parity ladders, time training and inference, and write index.html with one page per model and per
study (each self-contained, reports.pages), report.md, results.csv, results.json and the PNG plots
into one folder.

    from reports.generate import main_report, run_report, write_report
    main_report("triptych-report", quick=True, models=names)   # -> exit code 0 | 1

:data:`COMMAND` is the ``triptych report`` command, which the CLI finds through the ``triptych.commands``
entry point (pyproject.toml), so the core never imports this package.
"""
from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

from triptych.commands import Command
from triptych.files import staged_directory
from triptych.frameworks import FRAMEWORKS
from triptych.registry import MODELS, STUDIES
from reports import html_page, markdown_page
from reports.environment import environment
from reports.pages import INDEX, build_pages
from reports.plots import write_plots, write_study_plots
from reports.records import all_rows, write_csv, write_json
from reports.run import (OTHER_KERAS_BACKENDS, ModelReport, Progress, StudyReport, run_backend_parity, run_model,
                         run_study, task_count)

TITLE = "Triptych — one model, three frameworks"


def run_report(models: list[str], quick: bool = False, data: str | None = "sample", progress: bool = True,
               studies: list[str] = ()) -> tuple[list[ModelReport], list[StudyReport]]:
    """Train, time and check every model in ``models``, then run ``studies``; failures are recorded, never raised."""
    backends = () if quick else OTHER_KERAS_BACKENDS
    tracker = Progress(sum(task_count(m, quick) for m in models) + len(backends) + len(studies), progress)
    reports = [run_model(model, quick, data, tracker) for model in models]
    if backends:
        run_backend_parity(reports, tracker)
    return reports, [run_study(name, quick, tracker) for name in studies]


def write_report(reports: list[ModelReport], out: Path, quick: bool, seconds: float,
                 studies: list[StudyReport] = ()) -> Path:
    """Write every file of the report into ``out``; returns the path of index.html."""
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    plots = {r.model: write_plots(r, out) for r in reports}
    plots.update({f"study {s.study}": write_study_plots(s, out) for s in studies})
    pages = build_pages(reports, plots, env, quick, studies)
    failed = [r.model for r in reports if not r.ok] + [f"study {s.study}" for s in studies if not s.ok]
    status = f"FAILED: {', '.join(failed)}" if failed else "everything passed"
    subtitle = f"Generated {datetime.now():%Y-%m-%d %H:%M} in {seconds:.0f} s — {status}."
    listed = [p for p in pages if p.in_nav]
    for page in pages:
        up = "../" * page.filename.count("/")  # a page in a subfolder links back up to the others
        nav = [("index" if p.filename == INDEX else p.title, None if p is page else up + p.filename) for p in listed]
        title = TITLE if page.filename == INDEX else f"{page.title} — {TITLE}"
        target = out / page.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html_page.render(page.sections, title, subtitle, nav), encoding="utf-8")
    sections = [section for page in listed for section in page.sections]
    (out / "report.md").write_text(markdown_page.render(sections, TITLE, subtitle), encoding="utf-8")
    rows = all_rows(reports, studies)
    write_csv(rows, out / "results.csv")
    meta = {"generated": datetime.now().isoformat(timespec="seconds"), "quick": quick, "seconds": seconds,
            "models": [r.model for r in reports], "studies": [s.study for s in studies], "ok": not failed}
    write_json(rows, reports, env, meta, out / "results.json")
    return out / INDEX


def print_summary(reports: list[ModelReport], index: Path, seconds: float, studies: list[StudyReport] = ()) -> None:
    """One line per model, its failures, the page to open and the total time."""
    print("\nreport summary", flush=True)
    for r in reports:
        print(f"  {r.model:<10} {'ok' if r.ok else 'FAILED':<7} {len(r.runs)}/{len(FRAMEWORKS)} frameworks trained, "
              "{}/{} parity checks passed, ".format(*r.parity_counts) + f"{r.seconds:.1f} s "
              f"({', '.join(f'{task} {seconds:.1f}' for task, seconds in r.timings.items())})")
        for f in r.failures:
            print(f"      {f.where}: {f.message}")
        for p in r.parity_failures:
            print(f"      parity {p.dtype} rung {p.rung} {p.rung_name} {p.pair}: {p.value:.2e} > {p.tolerance:.0e}")
    for s in studies:
        print(f"  study {s.study:<10} {'ok' if s.ok else 'FAILED':<7} {s.seconds:.1f} s")
        for f in s.failures:
            print(f"      {f.where}: {f.message}")
        for c in (s.result.checks if s.result else []):
            if not c["passed"]:
                print(f"      check failed: {c['what']}: {c['value']:.3g} (target {c['target']})")
    print(f"open {index}\ntotal time {seconds:.1f} s", flush=True)


def main_report(out: str | Path = "triptych-report", quick: bool = False, models: list[str] | None = None,
                data: str | None = "sample", progress: bool = True, studies: list[str] | None = None) -> int:
    """Run and write the report; 0 when every model and study ran and every check passed, else 1.
    ``studies``: None runs every registered study, [] none.  ``out`` is checked and locked before any
    work; the report is written into a fresh folder beside it that replaces it whole at the end, so a
    failed or interrupted run leaves the previous report as it was."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    studies = list(STUDIES) if studies is None else list(studies)
    with staged_directory(out) as staging:
        reports, study_reports = run_report(list(models or MODELS), quick, data, progress, studies)
        write_report(reports, staging, quick, time.perf_counter() - start, study_reports)
    index = Path(out).resolve() / "index.html"
    print_summary(reports, index, time.perf_counter() - start, study_reports)
    return 0 if all(r.ok for r in reports) and all(s.ok for s in study_reports) else 1


def _add_arguments(parser) -> None:
    parser.add_argument("--out", default="triptych-report")
    parser.add_argument("--quick", action="store_true", help="few steps on small data (about a minute)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS))
    parser.add_argument("--studies", nargs="*", choices=list(STUDIES), help="studies to run (default: all)")
    parser.add_argument("--data", default="sample", help="MNIST: sample (default) | full | DIR")


def _run(args) -> int:
    return main_report(args.out, quick=args.quick, models=args.models or list(MODELS), data=args.data,
                       studies=list(STUDIES) if args.studies is None else args.studies, progress=True)


COMMAND = Command("report", "write the comparison report (HTML, Markdown, CSV/JSON, plots)", _add_arguments, _run,
                  scratch_kernels=True)
