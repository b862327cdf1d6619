"""Every figure of a report in long format — one row per model × framework (or pair) × metric —
written as results.csv and results.json (``pandas.read_csv`` / ``pandas.DataFrame(json["rows"])``)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numbers

from reports.run import FrameworkRun, ModelReport, StudyReport

COLUMNS = ("model", "framework", "dtype", "metric", "value", "tolerance", "passed")


def _row(model: str, framework: str, dtype: str, metric: str, value, tolerance=None, passed=None) -> dict:
    return dict(zip(COLUMNS, (model, framework, dtype, metric, value, tolerance, passed)))


def run_figures(report: ModelReport, run: FrameworkRun) -> dict[str, float]:
    """Figures of one training run; ratios are to the fastest framework (1.0 = fastest)."""
    train_ratio, infer_ratio = report.ratios_to_fastest(run)
    return {**{f"test {k}": v for k, v in run.metrics.items()},
            "last training loss": run.losses[-1], "parameters": run.params, "steps": run.steps,
            "train seconds": run.train_seconds, "ms per training step": run.ms_per_step,
            "training time ratio to fastest": train_ratio,
            "training samples per s": run.train_samples_per_s, "inference samples per s": run.infer_samples_per_s,
            "inference time ratio to fastest": infer_ratio,
            **({"best epoch": run.best_epoch} if run.best_epoch else {})}


BENCH_FIGURES = {"ms_per_step": "bench ms per step", "baseline_ms_per_step": "bench plain ms per step",
                 "harness_overhead": "bench API over plain", "ratio_to_fastest_baseline": "bench over fastest plain",
                 "gflops": "bench GFLOP per s", "fraction_of_matmul": "bench fraction of matmul rate"}


def model_rows(report: ModelReport) -> list[dict]:
    rows = [_row(report.model, run.framework, report.setup["dtype"], metric, float(value))
            for run in report.runs.values() for metric, value in run_figures(report, run).items()]
    rows += [_row(report.model, b["framework"], b["dtype"], metric, float(b[key]))
             for b in report.bench for key, metric in BENCH_FIGURES.items()]
    rows += [_row(r.model, r.pair, r.dtype, f"rung{r.rung} {r.rung_name}", r.value, r.tolerance, r.passed)
             for r in report.parity]
    return rows


def study_rows(report: StudyReport) -> list[dict]:
    """A study's numeric cells, one row each (model column "study NAME", framework "all" where a row has
    none; the metric names the row by its text cells), then its checks.  Studies run in float64."""
    if report.result is None:
        return []
    rows, where = [], f"study {report.study}"
    for r in report.result.rows:
        label = " · ".join(str(r[c]) for c in report.result.columns  # a row may leave cells out
                           if c in r and c != "framework" and not isinstance(r[c], numbers.Number))
        rows += [_row(where, r.get("framework", "all"), "float64", f"{label}: {c}", float(r[c])) for c in report.result.columns
                 if isinstance(r.get(c), numbers.Number) and not isinstance(r.get(c), bool)]
    rows += [_row(where, "all", "float64", f"check: {c['what']}", float(c["value"]), c["target"], c["passed"])
             for c in report.result.checks]
    return rows


def all_rows(reports: list[ModelReport], studies: list[StudyReport] = ()) -> list[dict]:
    return [row for report in reports for row in model_rows(report)] + [row for s in studies for row in study_rows(s)]


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def write_json(rows: list[dict], reports: list[ModelReport], env: dict, meta: dict, path: Path) -> None:
    """{"meta", "environment", "models": {model: setup, source, ok, seconds, timings, failures}, "rows": figures}."""
    models = {r.model: {"setup": r.setup, "source": r.source, "ok": r.ok, "seconds": r.seconds,
                        "timings": r.timings, "failures": [f.__dict__ for f in r.failures]} for r in reports}
    path.write_text(json.dumps({"meta": meta, "environment": env, "models": models, "rows": rows}, indent=1,
                               ensure_ascii=False), encoding="utf-8")
