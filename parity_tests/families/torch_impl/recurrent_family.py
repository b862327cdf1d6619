"""recurrent_family in PyTorch: (T, F) → stacked nn.LSTM → last hidden state → Linear → sigmoid,
binary cross-entropy.

Sections, as in scratch/recurrent_family.py and keras_impl/recurrent_family.py.
"""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical, stack

CELLS = {"lstm": nn.LSTM}

# ---- data: random sequences (N, T, F) and targets (N, 1) in {0, 1} (parity_tests.families.synthetic_source)


# ---- model
class RecurrentFamily(nn.Module):
    """x (N, T, F) → recurrent layers (batch_first, one module each, so widths may differ) → h_T → Linear → σ.

    torch's recurrent layers have two biases, b_ih and b_hh, that always appear as their sum; the canonical
    layout (and Keras) has one, so b_hh is zero and frozen and b_ih is the one bias."""

    def __init__(self, cell: str, in_features: int, units: tuple[int, ...]):
        super().__init__()
        sizes = (in_features, *units)
        self.recurrent = nn.ModuleList(CELLS[cell](a, b, batch_first=True) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer in self.recurrent:
            nn.init.zeros_(layer.bias_hh_l0)
            layer.bias_hh_l0.requires_grad_(False)
        self.output = nn.Linear(sizes[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.recurrent:
            x, _ = layer(x)
        return torch.sigmoid(self.output(x[:, -1]))


def build(config: dict) -> RecurrentFamily:
    """torch's own initialisation (uniform ±1/√u); parity copies canonical weights in."""
    return RecurrentFamily(config["cell"], config["in_features"], config["units"])


# ---- loss: binary cross-entropy on the probabilities
def loss_fn() -> nn.Module:
    return nn.BCELoss()


# ---- optimizer: torch.optim.SGD / Adam over the trainable parameters (b_hh excluded) (training.make_optimizer)
# ---- training: the explicit loop in torch_impl/training.py over the shared batches
def train(model: RecurrentFamily, X, y, plan) -> dict:
    return training.fit(model, loss_fn(), X, y, plan)


# ---- conversion: {cell}{i}.W (in, gates·u) = recurrent.{i−1}.weight_ih_l0.T, .U = weight_hh_l0.T,
# .b = bias_ih_l0 + bias_hh_l0 (gates in the same order in both); output.W = output.weight.T
def _layers(tensors: dict) -> list[tuple[str, str]]:
    """(torch prefix, canonical prefix) of each recurrent layer; the cell is read off the shapes
    (weight_hh_l0 is (gates·u, u): 4 gates for an LSTM)."""
    n = sum(1 for k in tensors if k.startswith("recurrent.") and k.endswith(".weight_hh_l0"))
    cells = {4: "lstm"}
    return [(f"recurrent.{i}", f"{cells[len(w) // w.shape[1]]}{i + 1}")
            for i, w in ((i, tensors[f"recurrent.{i}.weight_hh_l0"]) for i in range(n))]


def to_canonical(tensors: dict) -> dict:
    return stack(*({f"{name}.W": tensors[f"{t}.weight_ih_l0"].T, f"{name}.U": tensors[f"{t}.weight_hh_l0"].T,
                    f"{name}.b": tensors[f"{t}.bias_ih_l0"] + tensors[f"{t}.bias_hh_l0"]}
                   for t, name in _layers(tensors)),
                 linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    names = [k[:-2] for k in weights if k.endswith(".U")]
    return stack(*({f"recurrent.{i}.weight_ih_l0": weights[f"{name}.W"].T.contiguous(),
                    f"recurrent.{i}.weight_hh_l0": weights[f"{name}.U"].T.contiguous(),
                    f"recurrent.{i}.bias_ih_l0": weights[f"{name}.b"],
                    f"recurrent.{i}.bias_hh_l0": torch.zeros_like(weights[f"{name}.b"])}
                   for i, name in enumerate(names)),
                 linear_from_canonical(weights, "output", "output"))
