"""Every figure of a report in long format — one row per model × framework (or pair) × metric —
written as results.csv and results.json (``pandas.read_csv`` / ``pandas.DataFrame(json["rows"])``)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from reports.run import FrameworkRun, ModelReport

COLUMNS = ("model", "framework", "dtype", "metric", "value", "tolerance", "passed")
HOUSE_STUDY_DTYPE = "float64"  # common.house builds with build()'s default dtype


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


def model_rows(report: ModelReport) -> list[dict]:
    rows = [_row(report.model, run.framework, report.setup["dtype"], metric, float(value))
            for run in report.runs.values() for metric, value in run_figures(report, run).items()]
    rows += [_row(r.model, r.pair, r.dtype, f"rung{r.rung} {r.rung_name}", r.value, r.tolerance, r.passed)
             for r in report.parity]
    for s in report.house_study:
        rows += [_row(report.model, s["framework"], HOUSE_STUDY_DTYPE, f"house study {s['variant']}: {k}",
                      float(s[k])) for k in ("mae", "rmse", "params", "best_epoch")]
    return rows


def all_rows(reports: list[ModelReport]) -> list[dict]:
    return [row for report in reports for row in model_rows(report)]


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def write_json(rows: list[dict], reports: list[ModelReport], env: dict, meta: dict, path: Path) -> None:
    """{"meta", "environment", "models": {model: setup, source, ok, failures}, "rows": long-format figures}."""
    models = {r.model: {"setup": r.setup, "source": r.source, "ok": r.ok, "seconds": r.seconds,
                        "failures": [f.__dict__ for f in r.failures]} for r in reports}
    path.write_text(json.dumps({"meta": meta, "environment": env, "models": models, "rows": rows}, indent=1,
                               ensure_ascii=False), encoding="utf-8")
