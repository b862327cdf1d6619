"""The parity heat map: one row per model, one column per (dtype, rung, pair), each cell coloured by
log10(measured maximum / tolerance) — below 0 passes, and the more negative the greener, so the map
says at a glance by how many orders of magnitude the frameworks agree.  A report block."""
from __future__ import annotations

import math
from dataclasses import dataclass

from triptych.tolerances import RUNGS, TOLERANCES
from reports.run import ModelReport

DEEPEST = 10  # cells this many orders (or more) below their tolerance get the darkest green


@dataclass(frozen=True)
class Column:
    dtype: str
    rung: int
    pair: str

    @property
    def pair_short(self) -> str:
        """"scratch↔torch" → "S↔T"; "scratch↔FD" → "S↔FD" (each framework by its initial)."""
        return "↔".join(side if side.isupper() else side[:1].upper() for side in self.pair.split("↔"))


@dataclass
class HeatCell:
    value: float
    tolerance: float | None  # None: reported only (float32 trajectories)
    relative: bool
    passed: bool | None
    detail: str = ""

    @property
    def orders(self) -> float | None:
        """log10(value / tolerance): ≤ 0 passes; −inf when the two agree exactly; None when reported only."""
        if self.tolerance is None:
            return None
        if self.value == 0:
            return -math.inf
        if not math.isfinite(self.value):
            return math.inf
        return math.log10(self.value / self.tolerance)

    @property
    def shade(self) -> str:
        """CSS class: "fail", "info" (reported only), "exact", or "g0" … f"g{DEEPEST}" by whole orders below."""
        orders = self.orders
        if self.passed is False:
            return "fail"
        if orders is None:
            return "info"
        if orders == -math.inf:
            return "exact"
        return f"g{min(DEEPEST, max(0, math.floor(-orders)))}"

    @property
    def label(self) -> str:
        """The text in the cell: the orders rounded to one decimal, "=" for exact agreement, "—" when reported."""
        orders = self.orders
        if orders is None:
            return "—"
        if orders == -math.inf:
            return "="
        if orders == math.inf:
            return "NaN" if math.isnan(self.value) else "inf"
        return f"{orders:.1f}".replace("-", "−")

    def title(self, model: str, column: Column) -> str:
        """The hover text: every figure behind the colour."""
        where = f"{model} · {column.dtype} · rung {column.rung} {RUNGS.get(column.rung, '')} · {column.pair}"
        if self.tolerance is None:
            return f"{where}: {self.value:.3g} (reported, no tolerance)"
        rel = " relative" if self.relative else ""
        verdict = "pass" if self.passed else "FAIL"
        extra = f"; {self.detail}" if self.detail else ""
        return f"{where}: {self.value:.3g}{rel} against {self.tolerance:.0e} — {verdict}{extra}"


@dataclass
class HeatRow:
    model: str
    href: str | None
    cells: list[HeatCell | None]  # None: not measured in this report (or the model failed)
    failed: bool = False  # the ladder did not run (see the model's page)


@dataclass
class HeatMap:
    columns: list[Column]
    rows: list[HeatRow]


def _order(reports: list[ModelReport]) -> list[Column]:
    """Every (dtype, rung, pair) measured: dtypes as in the tolerances, rungs ascending, pairs as first met."""
    pairs: dict[str, int] = {}
    seen = set()
    for report in reports:
        for r in report.parity:
            pairs.setdefault(r.pair, len(pairs))
            seen.add(Column(r.dtype, r.rung, r.pair))
    dtypes = {d: i for i, d in enumerate(TOLERANCES)}
    return sorted(seen, key=lambda c: (dtypes.get(c.dtype, len(dtypes)), c.dtype, c.rung, pairs[c.pair]))


def parity_heatmap(reports: list[ModelReport], href=None) -> HeatMap:
    """The heat map of every report's parity results; ``href(model)`` links each row's name."""
    columns = _order(reports)
    rows = []
    for report in reports:
        found = {Column(r.dtype, r.rung, r.pair): HeatCell(r.value, r.tolerance, r.relative, r.passed, r.detail)
                 for r in report.parity}
        failed = any(f.where.startswith("parity") for f in report.failures)
        rows.append(HeatRow(report.model, href(report.model) if href else None,
                            [found.get(c) for c in columns], failed))
    return HeatMap(columns, rows)


def margins(report: ModelReport) -> dict[str, tuple[int, int, float]]:
    """Per dtype: (checks passed, checks with a tolerance, the largest log10(value / tolerance) among them)."""
    out = {}
    for dtype in dict.fromkeys(r.dtype for r in report.parity):
        cells = [HeatCell(r.value, r.tolerance, r.relative, r.passed) for r in report.parity
                 if r.dtype == dtype and r.tolerance is not None]
        if cells:
            out[dtype] = (sum(bool(c.passed) for c in cells), len(cells), max(c.orders for c in cells))
    return out
