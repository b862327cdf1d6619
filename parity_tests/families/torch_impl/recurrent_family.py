"""recurrent_family in PyTorch: (T, F) → stacked nn.RNN / nn.GRU / nn.LSTM → last hidden state → Linear
logits, softmax cross-entropy.

Sections, as in scratch/recurrent_family.py and keras_impl/recurrent_family.py.
"""
from __future__ import annotations

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import linear_from_canonical, linear_to_canonical, stack
from torch_impl.convert import swap_r_z

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}

# ---- data: random sequences (N, T, F) and labels (N,) (parity_tests.families.synthetic_source)


# ---- model
class RecurrentFamily(nn.Module):
    """x (N, T, F) → recurrent layers (batch_first, one module each, so widths may differ) → h_T → Linear.

    The RNN's and the LSTM's two biases, b_ih and b_hh, only ever appear as their sum; the canonical layout
    (and Keras) has one, so b_hh is zero and frozen and b_ih is the one bias.  The GRU's b_hn sits inside
    r ⊙ (…): both biases are kept and trained (Keras's reset_after=True has the same two)."""

    def __init__(self, cell: str, in_features: int, units: tuple[int, ...], num_classes: int):
        super().__init__()
        sizes = (in_features, *units)
        self.recurrent = nn.ModuleList(CELLS[cell](a, b, batch_first=True) for a, b in zip(sizes[:-1], sizes[1:]))
        if cell != "gru":
            for layer in self.recurrent:
                nn.init.zeros_(layer.bias_hh_l0)
                layer.bias_hh_l0.requires_grad_(False)
        self.output = nn.Linear(sizes[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.recurrent:
            x, _ = layer(x)
        return self.output(x[:, -1])


def build(config: dict) -> RecurrentFamily:
    """torch's own initialisation (uniform ±1/√u); parity copies canonical weights in."""
    return RecurrentFamily(config["cell"], config["in_features"], config["units"], config["num_classes"])


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: torch.optim.SGD / Adam / RMSprop over the trainable parameters (training.make_optimizer)
# ---- training: the explicit loop in torch_impl/training.py over the shared batches
def train(model: RecurrentFamily, X, y, plan) -> dict:
    return training.fit(model, loss(), X, y, plan)


# ---- conversion, layer i (torch recurrent.{i−1}, canonical {cell}{i}): W = weight_ih_l0.T, U = weight_hh_l0.T
# with gate blocks in the same order (RNN, LSTM), b = bias_ih_l0 + bias_hh_l0; the GRU's blocks r, z, n are
# swapped to z, r, h and its b stacks [bias_ih_l0, bias_hh_l0].  output.W = output.weight.T
GATES = {1: "rnn", 3: "gru", 4: "lstm"}  # gate blocks → cell: weight_hh_l0 is (gates·u, u)


def to_canonical(tensors: dict) -> dict:
    parts = []
    for i in range(sum(1 for k in tensors if k.startswith("recurrent.") and k.endswith(".weight_hh_l0"))):
        t = {key: tensors[f"recurrent.{i}.{key}"]
             for key in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
        cell = GATES[len(t["weight_hh_l0"]) // t["weight_hh_l0"].shape[1]]
        if cell == "gru":
            W, U, b = (swap_r_z(t["weight_ih_l0"]).T, swap_r_z(t["weight_hh_l0"]).T,
                       torch.stack([swap_r_z(t["bias_ih_l0"]), swap_r_z(t["bias_hh_l0"])]))
        else:
            W, U, b = t["weight_ih_l0"].T, t["weight_hh_l0"].T, t["bias_ih_l0"] + t["bias_hh_l0"]
        parts.append({f"{cell}{i + 1}.W": W, f"{cell}{i + 1}.U": U, f"{cell}{i + 1}.b": b})
    return stack(*parts, linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    parts = []
    for i, name in enumerate(k[:-2] for k in weights if k.endswith(".U")):
        W, U, b = weights[f"{name}.W"].T, weights[f"{name}.U"].T, weights[f"{name}.b"]
        if name.startswith("gru"):
            W, U, b_ih, b_hh = swap_r_z(W), swap_r_z(U), swap_r_z(b[0]), swap_r_z(b[1])
        else:
            b_ih, b_hh = b, torch.zeros_like(b)
        parts.append({f"recurrent.{i}.weight_ih_l0": W.contiguous(), f"recurrent.{i}.weight_hh_l0": U.contiguous(),
                      f"recurrent.{i}.bias_ih_l0": b_ih, f"recurrent.{i}.bias_hh_l0": b_hh})
    return stack(*parts, linear_from_canonical(weights, "output", "output"))
