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
from functools import partial
from pathlib import Path

from triptych.backends import keras_label, start_ladders
from triptych.commands import Command, positive_int
from triptych.experiments import check_named_data
from triptych.isolation import Child
from triptych.parity import RungResult
from triptych.files import staged_directory
from triptych.frameworks import FRAMEWORKS
from triptych.registry import MODELS, STUDIES
from reports import html_page, markdown_page
from reports.environment import environment
from reports.pages import INDEX, build_pages
from reports.plots import write_plots, write_study_plots
from reports.records import all_rows, write_csv, write_json
from reports.run import (OTHER_KERAS_BACKENDS, Failure, ModelReport, Progress, StudyReport, add_backend_parity,
                         heaviest_first, run_model, run_study, task_count, training_setup)
from reports.tasks import Task, default_jobs, run_tasks, thread_env

TITLE = "Triptych — one model, three frameworks"


def run_report(models: list[str], quick: bool = False, data: str | None = "sample", progress: bool = True,
               studies: list[str] = (), jobs: int = 1) -> tuple[list[ModelReport], list[StudyReport]]:
    """Train, time and check every model in ``models``, run ``studies`` and, unless quick, the float64 ladders
    with Keras on the other backends; failures are recorded, never raised.  ``jobs`` tasks run at a time, each
    in a child process (reports.tasks; it loads this process's plugins); with ``jobs=1`` the models and studies
    run here, one after the other, after the other backends' ladders."""
    backends = () if quick else OTHER_KERAS_BACKENDS
    tracker = Progress(sum(task_count(m, quick) for m in models) + len(backends) + len(studies), progress)
    relay = tracker.relay if progress else None
    results: dict[str, dict] = {"model": {}, "study": {}, "backend": {}}

    def task(kind: str, key: str, label: str, start) -> Task:
        keep = partial(results[kind].__setitem__, key)  # the value, or the exception of a child that failed
        return Task(label, start, keep, keep)

    def ladders(backend: str, label: str) -> Child:
        tracker.start(f"parity float64 · {label}", f"{len(models)} models in a child process")
        said = (lambda r: tracker.say(f"{r['model']} {r['dtype']}", f"parity float64 · {label}")) if progress else None
        return start_ladders(backend, models, ("float64",), progress=said)

    tasks = [task("backend", keras_label(b), keras_label(b), partial(ladders, b, keras_label(b))) for b in backends]
    if jobs == 1:
        run_tasks(tasks, 1)
        results["model"].update({m: run_model(m, quick, data, tracker) for m in models})
        results["study"].update({name: run_study(name, quick, tracker) for name in studies})
    else:
        env = thread_env(jobs)
        tasks += [task("model", m, m, partial(Child, "reports.run:model_in_child",
                                              dict(model=m, quick=quick, data=data), env, relay))
                  for m in heaviest_first(models, quick, data)]
        tasks += [task("study", name, f"study {name}", partial(Child, "reports.run:study_in_child",
                                                               dict(name=name, quick=quick), env, relay))
                  for name in studies]
        run_tasks(tasks, jobs)
    reports = [_model_report(model, results["model"][model], quick, data) for model in models]
    for label, rows in results["backend"].items():
        add_backend_parity(reports, label, rows if isinstance(rows, BaseException) else [RungResult(**r) for r in rows])
    return reports, [_study_report(name, results["study"][name]) for name in studies]


def _model_report(model: str, result, quick: bool, data: str | None) -> ModelReport:
    """A model's report, or, for a child that failed without one (crashed or was killed), a failed report."""
    if isinstance(result, ModelReport):
        return result
    report = ModelReport(model, training_setup(model, quick, data))
    report.failures.append(Failure.from_exception("child process", result))
    return report


def _study_report(name: str, result) -> StudyReport:
    if isinstance(result, StudyReport):
        return result
    return StudyReport(name, failures=[Failure.from_exception("child process", result)])


def write_report(reports: list[ModelReport], out: Path, quick: bool, seconds: float,
                 studies: list[StudyReport] = (), jobs: int = 1) -> Path:
    """Write every file of the report into ``out``; returns the path of index.html."""
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    plots = {r.model: write_plots(r, out) for r in reports}
    plots.update({f"study {s.study}": write_study_plots(s, out) for s in studies})
    pages = build_pages(reports, plots, env, quick, studies)
    failed = [r.model for r in reports if not r.ok] + [f"study {s.study}" for s in studies if not s.ok]
    status = f"FAILED: {', '.join(failed)}" if failed else "everything passed"
    parallel = f", {jobs} tasks at a time (timings shared the cores)" if jobs > 1 else ""
    subtitle = f"Generated {datetime.now():%Y-%m-%d %H:%M} in {seconds:.0f} s{parallel} — {status}."
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
            "models": [r.model for r in reports], "studies": [s.study for s in studies], "ok": not failed, "jobs": jobs}
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
                data: str | None = "sample", progress: bool = True, studies: list[str] | None = None,
                jobs: int | None = None) -> int:
    """Run and write the report; 0 when every model and study ran and every check passed, else 1.
    ``studies``: None runs every registered study, [] none.  ``out`` is checked and locked before any
    work; the report is written into a fresh folder beside it that replaces it whole at the end, so a
    failed or interrupted run leaves the previous report as it was.  ``jobs`` tasks run at a time (default: one
    per core), in child processes that load this process's plugins (a user's own models and studies)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    studies = list(STUDIES) if studies is None else list(studies)
    with staged_directory(out) as staging:
        jobs = default_jobs() if jobs is None else jobs
        reports, study_reports = run_report(list(models or MODELS), quick, data, progress, studies, jobs)
        write_report(reports, staging, quick, time.perf_counter() - start, study_reports, jobs)
    index = Path(out).resolve() / "index.html"
    print_summary(reports, index, time.perf_counter() - start, study_reports)
    return 0 if all(r.ok for r in reports) and all(s.ok for s in study_reports) else 1


def _add_arguments(parser) -> None:
    parser.add_argument("--out", default="triptych-report")
    parser.add_argument("--quick", action="store_true", help="few steps on small data (about a minute)")
    parser.add_argument("--models", nargs="+", choices=list(MODELS))
    parser.add_argument("--studies", nargs="*", choices=list(STUDIES), help="studies to run (default: all)")
    parser.add_argument("--data", default="sample", help="MNIST: sample (default) | full | DIR")
    parser.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                        help="tasks (a model, a study, a Keras backend's ladders) run at a time in child processes "
                             "(default: one per core; 1 runs models and studies in this process)")


def _run(args) -> int:
    check_named_data(args.models or list(MODELS), args.data)
    return main_report(args.out, quick=args.quick, models=args.models or list(MODELS), data=args.data,
                       studies=list(STUDIES) if args.studies is None else args.studies, progress=True,
                       jobs=args.jobs)


COMMAND = Command("report", "write the comparison report (HTML, Markdown, CSV/JSON, plots)", _add_arguments, _run,
                  scratch_kernels=True)
