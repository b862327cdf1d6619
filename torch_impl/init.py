"""The spec's ``init`` names mapped to torch's stock initialisers ("default": torch's own kaiming-uniform a=√5)."""
from __future__ import annotations

from functools import partial

from torch import nn

INITIALIZERS = {
    "glorot_uniform": nn.init.xavier_uniform_,
    "glorot_normal": nn.init.xavier_normal_,
    "he_uniform": partial(nn.init.kaiming_uniform_, nonlinearity="relu"),
    "he_normal": partial(nn.init.kaiming_normal_, nonlinearity="relu"),
    "zeros": nn.init.zeros_,
}


def init_linear(layer: nn.Linear, name: str) -> None:
    """Re-initialise ``layer.weight`` with ``name`` and zero the bias; "default" leaves torch's init."""
    if name == "default":
        return
    if name not in INITIALIZERS:
        raise ValueError(f"unknown init {name!r}; expected one of default, {', '.join(INITIALIZERS)}")
    INITIALIZERS[name](layer.weight)
    nn.init.zeros_(layer.bias)
