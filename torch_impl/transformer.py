"""A small transformer encoder on MNIST rows in PyTorch: 28 rows as 28 tokens → nn.Linear 28→64 + nn.Embedding of
the positions → nn.TransformerEncoder of 2 post-norm nn.TransformerEncoderLayer (4 heads, feed-forward 128, exact
GELU, dropout 0.1) → mean over tokens → nn.LayerNorm → nn.Linear 10, softmax cross-entropy, Adam.

Sections, as in scratch/transformer.py and keras_impl/transformer.py: data → model → loss → optimizer → training →
conversion.
"""
from __future__ import annotations

__all__ = ["load_mnist", "RowTransformer", "batches", "build", "loss", "optimizer", "train", "to_canonical",
           "from_canonical"]

import torch
from torch import nn

from torch_impl import training
from torch_impl.convert import (attention_from_canonical, attention_to_canonical, layer_norm_from_canonical,
                                layer_norm_to_canonical, linear_from_canonical, linear_to_canonical, stack)

# ---- data: images (N, 28, 28) in [0, 1], labels (N,) 0..9 as triptych.mnist.load_mnist returns them → tensors on
#      the device, each image 28 tokens (batch_first), then each epoch's shared seeded minibatches
from triptych.mnist import load_mnist


def batches(X, y, plan) -> training.Batches:
    return training.Batches(*training.as_tensors(X, y), plan)


# ---- model
class RowTransformer(nn.Module):
    """x (N, T, 28) → embed + position(0…T−1) → TransformerEncoder (post-norm, GELU) → mean over T → LayerNorm →
    logits (N, 10).

    The key bias: in_proj_bias[d:2d] adds q·b_k to every score of a row, which softmax ignores, so its true gradient
    is zero; torch computes rounding noise there, and Adam, dividing by its root, turns noise into full-size steps.
    It is held at zero (its gradient masked).  ``fast_path`` (off by default): torch's inference fast path for the
    encoder layer (a fused kernel, its own numerics) runs in eval mode without gradients; off, eval runs the same
    ops as training, which is what the parity ladder compares."""

    def __init__(self, config: dict, fast_path: bool = False):
        super().__init__()
        d, self.fast_path = config["d_model"], fast_path
        self.embed = nn.Linear(config["in_features"], d)
        self.position = nn.Embedding(config["max_len"], d)
        layer = nn.TransformerEncoderLayer(d, config["heads"], config["ff_units"], config["dropout"], activation="gelu",
                                           layer_norm_eps=config["norm_epsilon"], batch_first=True, norm_first=False)
        self.encoder = nn.TransformerEncoder(layer, config["blocks"], enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d, eps=config["norm_epsilon"])
        self.output = nn.Linear(d, config["num_classes"])
        key = torch.zeros(3 * d, dtype=torch.bool)
        key[d:2 * d] = True
        for block in self.encoder.layers:
            with torch.no_grad():
                block.self_attn.in_proj_bias[key] = 0.0
            block.self_attn.in_proj_bias.register_hook(lambda g, key=key: g.masked_fill(key.to(g.device), 0.0))
            block.self_attn.in_proj_bias.held_at_zero = d  # not a parameter of the model (summary's count)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[1], device=x.device)
        h = self.embed(x) + self.position(positions)
        before = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(self.fast_path)
        try:
            h = self.encoder(h)
        finally:
            torch.backends.mha.set_fastpath_enabled(before)
        return self.output(self.norm(h.mean(dim=1)))


def build(config: dict) -> RowTransformer:
    """torch's own initialisation (Xavier-uniform in_proj, kaiming-uniform linears, N(0, 1) position table)."""
    return RowTransformer(config)


# ---- loss: softmax cross-entropy on the logits
def loss() -> nn.Module:
    return nn.CrossEntropyLoss()


# ---- optimizer: the recipe, torch.optim.Adam with lr 1e-3 (the parity ladder's tiny epsilon comes in plan.options)
def optimizer(model: RowTransformer, plan) -> torch.optim.Optimizer:
    if plan.optimizer != "adam":  # another optimizer the caller names: the shared factory
        return training.make_optimizer(model.parameters(), plan)
    return torch.optim.Adam(model.parameters(), lr=plan.lr, **training.optimizer_options(plan))


# ---- training: zero_grad → forward → loss → backward → step over the shared batches of 128, dropout on
#      (training.Run keeps the books: each step's loss, NaN check, LR schedule, evaluation, keep-best, DDP replicas)
def train(model: RowTransformer, X, y, plan) -> dict:
    data, criterion, opt = batches(X, y, plan), loss(), optimizer(model, plan)
    run = training.Run(model, data, criterion, opt, plan)
    for epoch in run.epochs():
        run.model.train()
        for X_b, y_b in data.epoch(epoch):
            opt.zero_grad()
            batch_loss = criterion(run.model(X_b), y_b)
            run.record(batch_loss)
            batch_loss.backward()
            opt.step()
    return run.history


# ---- conversion: embed.W = embed.weight.T; position.E = position.weight; per block k (encoder.layers.<k−1>):
# in_proj_weight rows [0, d), [d, 2d), [2d, 3d) = query, key, value kernels transposed, in_proj_bias the query and
# value biases (the key's held at 0), out_proj = attention.out; linear1/linear2 = ff1/ff2; norm1/norm2 γ = weight,
# β = bias; then norm and output
def _blocks(names) -> int:
    return sum(1 for k in names if k.endswith("self_attn.in_proj_weight"))


def to_canonical(tensors: dict) -> dict:
    parts = [linear_to_canonical(tensors, "embed", "embed"), {"position.E": tensors["position.weight"]}]
    for k in range(_blocks(tensors)):
        t, b = f"encoder.layers.{k}", f"block{k + 1}"
        parts += [attention_to_canonical(tensors, f"{t}.self_attn", f"{b}.attention"),
                  layer_norm_to_canonical(tensors, f"{t}.norm1", f"{b}.norm1"),
                  linear_to_canonical(tensors, f"{t}.linear1", f"{b}.ff1"),
                  linear_to_canonical(tensors, f"{t}.linear2", f"{b}.ff2"),
                  layer_norm_to_canonical(tensors, f"{t}.norm2", f"{b}.norm2")]
    return stack(*parts, layer_norm_to_canonical(tensors, "norm", "norm"), linear_to_canonical(tensors, "output", "output"))


def from_canonical(weights: dict) -> dict:
    parts = [linear_from_canonical(weights, "embed", "embed"), {"position.weight": weights["position.E"]}]
    for k in range(sum(1 for name in weights if name.endswith("attention.query.W"))):
        t, b = f"encoder.layers.{k}", f"block{k + 1}"
        parts += [attention_from_canonical(weights, f"{b}.attention", f"{t}.self_attn"),
                  layer_norm_from_canonical(weights, f"{b}.norm1", f"{t}.norm1"),
                  linear_from_canonical(weights, f"{b}.ff1", f"{t}.linear1"),
                  linear_from_canonical(weights, f"{b}.ff2", f"{t}.linear2"),
                  layer_norm_from_canonical(weights, f"{b}.norm2", f"{t}.norm2")]
    return stack(*parts, layer_norm_from_canonical(weights, "norm", "norm"),
                 linear_from_canonical(weights, "output", "output"))
