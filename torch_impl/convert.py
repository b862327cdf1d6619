"""Layout conversions between torch parameters and the canonical (scratch) layout."""
from __future__ import annotations

import torch


def linear_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.Linear ``weight`` (out, in), ``bias`` (out,) → canonical ``name.W`` (in, out), ``name.b``."""
    return {f"{name}.W": tensors[f"{torch_name}.weight"].T, f"{name}.b": tensors[f"{torch_name}.bias"]}


def linear_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    return {f"{torch_name}.weight": weights[f"{name}.W"].T.contiguous(), f"{torch_name}.bias": weights[f"{name}.b"]}


def stack(*parts: dict) -> dict[str, torch.Tensor]:
    return {k: v for part in parts for k, v in part.items()}
