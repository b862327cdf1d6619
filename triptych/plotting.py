"""matplotlib with the file-only Agg backend, imported when a plot is first drawn."""
from __future__ import annotations


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
