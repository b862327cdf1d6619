"""matplotlib with the file-only Agg backend, imported when a plot is first drawn, and how every figure is saved."""
from __future__ import annotations


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path) -> None:
    """Lay ``fig`` out, write it to ``path`` as a 100-dpi PNG and free it (every plot of the studies and the report)."""
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    pyplot().close(fig)
