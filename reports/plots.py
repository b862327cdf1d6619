"""The report's PNG plots (matplotlib, Agg backend): per-step training loss of the three frameworks
overlaid, and each framework's distance from scratch's loss over the steps on a log axis."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reports.run import ModelReport, StudyReport  # noqa: E402
from triptych.plotting import save_figure  # noqa: E402

STYLES = {"scratch": dict(color="#4c72b0", linewidth=3, alpha=0.5), "torch": dict(color="#dd8452", linestyle="--"),
          "keras": dict(color="#55a868", linestyle=":")}  # overlapping curves stay visible
ZERO_FLOOR = 1e-16  # exact agreement is drawn here on the log axis


def write_plots(report: ModelReport, out: Path) -> list[Path]:
    """The PNG files for ``report`` written into ``out`` (none when no framework trained)."""
    if not report.runs:
        return []
    paths = [_loss_curves(report, out / f"{report.model}_loss.png")]
    if "scratch" in report.runs and len(report.runs) > 1:
        paths.append(_loss_differences(report, out / f"{report.model}_loss_difference.png"))
    if report.originals is not None:
        paths.append(_reconstructions(report, out / f"{report.model}_reconstructions.png"))
    return paths


def _reconstructions(report: ModelReport, path: Path) -> Path:
    """A grid: the original test digits in the first row, each framework's reconstructions of them below."""
    rows = [("original", report.originals)] + [(name, run.reconstructions) for name, run in report.runs.items()
                                               if run.reconstructions is not None]
    columns = len(report.originals)
    fig, axes = plt.subplots(len(rows), columns, figsize=(1.1 * columns, 1.2 * len(rows)), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c in range(columns):
            ax = axes[r][c]
            ax.imshow(np.asarray(images[c]), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(f"{report.model}: test digits and their reconstructions", fontsize=9)
    save_figure(fig, path)
    return path


def write_study_plots(report: StudyReport, out: Path) -> list[Path]:
    """Each plot the study declared, as ``study_<name>_<plot>.png`` in ``out``."""
    paths = []
    for name, draw in (report.result.plots.items() if report.result else ()):
        path = out / f"study_{report.study}_{name}.png"
        draw(path)
        paths.append(path)
    return paths


def _loss_curves(report: ModelReport, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, run in report.runs.items():
        ax.plot(np.arange(1, run.steps + 1), run.losses, label=name, **{"linewidth": 1, **STYLES.get(name, {})})
    ax.set(title=f"{report.model}: training loss per step ({report.setup['dtype']})", xlabel="step", ylabel="loss")
    return _save(fig, ax, path)


def _loss_differences(report: ModelReport, path: Path) -> Path:
    reference = np.asarray(report.runs["scratch"].losses)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, run in report.runs.items():
        if name != "scratch":
            n = min(len(reference), run.steps)
            diff = np.abs(np.asarray(run.losses[:n]) - reference[:n])
            ax.semilogy(np.arange(1, n + 1), np.maximum(diff, ZERO_FLOOR), ".", markersize=3,
                        label=f"|{name} − scratch|", color=STYLES.get(name, {}).get("color"))
    ax.set(title=f"{report.model}: loss difference from scratch (0 drawn at {ZERO_FLOOR:g})", xlabel="step",
           ylabel="absolute difference")
    return _save(fig, ax, path)


def _save(fig, ax, path: Path) -> Path:
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    save_figure(fig, path)
    return path
