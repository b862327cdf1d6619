"""The curriculum index: every model and study with what it teaches, where it comes from (the
declarations' ``teaches`` and ``origin``), its files, its test figure in each framework and its parity
status, each linked to its own page.  Report blocks (tables)."""
from __future__ import annotations

import math

from triptych.frameworks import FRAMEWORKS
from triptych.registry import get_spec, get_study
from reports.code_sections import shown_path, source_path
from reports.document import Cell, Table, _cells, model_page, source_file, study_page, verdict
from reports.heatmap import margins
from reports.run import ModelReport, StudyReport

KEY_METRIC = {"binary": "accuracy", "classification": "accuracy", "regression": "rmse",
              "reconstruction": "mse"}  # by task


def key_figure(report: ModelReport, framework: str) -> Cell:
    """The model's headline test figure in one framework: accuracy in %, else RMSE (reconstruction: MSE)."""
    run = report.runs.get(framework)
    if run is None:
        return Cell("failed" if any(f.where.startswith(framework) for f in report.failures) else "—",
                    status="fail" if report.failures else None)
    metric = KEY_METRIC[get_spec(report.model).task]
    value = run.metrics[metric]
    return Cell(f"{100 * value:.1f}\u00a0%" if metric == "accuracy" else f"{value:.3g}")


def parity_status(report: ModelReport) -> Cell:
    """One line per dtype: checks passed and the smallest margin, "float64 16/16, ≥ 3.0 orders inside"."""
    found = margins(report)
    if not found:
        return Cell("not run", status="fail" if report.failures else "info", href=f"{model_page(report.model)}#parity")
    lines = []
    for dtype, (passed, checked, worst) in found.items():
        margin = "all exact" if worst == -math.inf else f"≥ {-worst:.1f} orders inside"
        nbsp = "\u00a0"
        lines.append(f"{dtype}{nbsp}{passed}/{checked}, {margin.replace(' ', nbsp)}" if passed == checked
                     else f"{dtype}{nbsp}{checked - passed}{nbsp}FAIL")
    ok = all(passed == checked for passed, checked, _ in found.values())
    return Cell("\n".join(lines), href=f"{model_page(report.model)}#parity", status="pass" if ok else "fail")


def models_table(reports: list[ModelReport]) -> Table:
    rows = []
    for r in reports:
        spec = get_spec(r.model)
        files = "\n".join(shown_path(source_path(spec, fw)) for fw in FRAMEWORKS)
        rows.append(_cells(Cell(r.model, href=model_page(r.model)), spec.teaches or "—", spec.origin or "—",
                           Cell(files, href=f"{model_page(r.model)}#code"),
                           KEY_METRIC[spec.task], *(key_figure(r, fw) for fw in FRAMEWORKS),
                           parity_status(r), verdict(r.ok)))
    return Table(["model", "what it teaches", "where it comes from", "its three files", "test metric",
                  *FRAMEWORKS, "parity: checks, least margin", "status"], rows,
                 "Models (test figures after training in float32 from identical weights)", css="curriculum")


def studies_table(studies: list[StudyReport]) -> Table:
    rows = []
    for s in studies:
        spec = get_study(s.study)
        checks = s.result.checks if s.result else []
        models = "\n".join(spec.models) or "—"
        rows.append(_cells(Cell(s.study, href=study_page(s.study)), spec.teaches or "—", spec.origin or "—",
                           Cell(f"{shown_path(source_file(spec.run))}\nmodels:\n{models}"),
                           Cell(f"{sum(c['passed'] for c in checks)}/{len(checks)} checks" if s.result else "not run",
                                href=study_page(s.study)),
                           f"{s.seconds:.1f}\u00a0s", verdict(s.ok)))
    return Table(["study", "what it teaches", "where it comes from", "its code", "targets", "time", "status"], rows,
                 "Studies (experiments comparing runs, in every framework)")

