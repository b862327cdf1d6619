"""Layout conversions between torch parameters and the canonical (scratch) layout."""
from __future__ import annotations

import torch


def linear_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.Linear ``weight`` (out, in), ``bias`` (out,) → canonical ``name.W`` (in, out), ``name.b`` (a Linear
    without a bias has no ``name.b``)."""
    out = {f"{name}.W": tensors[f"{torch_name}.weight"].T}
    return {**out, f"{name}.b": tensors[f"{torch_name}.bias"]} if f"{torch_name}.bias" in tensors else out


def linear_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    out = {f"{torch_name}.weight": weights[f"{name}.W"].T.contiguous()}
    return {**out, f"{torch_name}.bias": weights[f"{name}.b"]} if f"{name}.b" in weights else out


def stack(*parts: dict) -> dict[str, torch.Tensor]:
    return {k: v for part in parts for k, v in part.items()}


def dense_stack_to_canonical(tensors: dict) -> dict:
    """An ``nn.ModuleList`` ``hidden`` of L ``nn.Linear`` and an ``output`` ``nn.Linear`` → canonical
    ``hidden1`` … ``hiddenL`` and ``output`` (``hidden{i}.W`` (in, out) = ``hidden.{i−1}.weight``ᵀ)."""
    n = sum(1 for k in tensors if k.startswith("hidden.") and k.endswith(".weight"))
    return stack(*(linear_to_canonical(tensors, f"hidden.{i}", f"hidden{i + 1}") for i in range(n)),
                 linear_to_canonical(tensors, "output", "output"))


def dense_stack_from_canonical(weights: dict) -> dict:
    """The inverse of :func:`dense_stack_to_canonical`: a state_dict for ``hidden.{i}`` and ``output``."""
    n = sum(1 for k in weights if k.startswith("hidden") and k.endswith(".W"))
    return stack(*(linear_from_canonical(weights, f"hidden{i + 1}", f"hidden.{i}") for i in range(n)),
                 linear_from_canonical(weights, "output", "output"))


def conv_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.Conv2d ``weight`` (out, in, kh, kw) → canonical ``name.W`` (kh, kw, in, out); bias as is."""
    return {f"{name}.W": tensors[f"{torch_name}.weight"].permute(2, 3, 1, 0), f"{name}.b": tensors[f"{torch_name}.bias"]}


def conv_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    return {f"{torch_name}.weight": weights[f"{name}.W"].permute(3, 2, 0, 1).contiguous(),
            f"{torch_name}.bias": weights[f"{name}.b"]}


def chw_to_hwc_columns(matrix: torch.Tensor, channels: int) -> torch.Tensor:
    """Reorder the columns of (out, C·H·W) from torch's flatten order (C, H, W) to (H, W, C).

    Column c·HW + s (s = h·W + w) moves to s·C + c: only C and the product H·W matter."""
    out = matrix.shape[0]
    return matrix.reshape(out, channels, -1).transpose(1, 2).reshape(out, -1)


def hwc_to_chw_columns(matrix: torch.Tensor, channels: int) -> torch.Tensor:
    """The inverse of :func:`chw_to_hwc_columns`."""
    out = matrix.shape[0]
    return matrix.reshape(out, -1, channels).transpose(1, 2).reshape(out, -1).contiguous()


def conv1d_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.Conv1d ``weight`` (out, in, k) → canonical ``name.W`` (k, in, out) (Keras's Conv1D); bias as is, if any."""
    out = {f"{name}.W": tensors[f"{torch_name}.weight"].permute(2, 1, 0)}
    return {**out, f"{name}.b": tensors[f"{torch_name}.bias"]} if f"{torch_name}.bias" in tensors else out


def conv1d_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    out = {f"{torch_name}.weight": weights[f"{name}.W"].permute(2, 1, 0).contiguous()}
    return {**out, f"{torch_name}.bias": weights[f"{name}.b"]} if f"{name}.b" in weights else out


def conv_kernel_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.Conv2d(bias=False) ``weight`` (out, in, kh, kw) → canonical ``name.W`` (kh, kw, in, out)."""
    return {f"{name}.W": tensors[f"{torch_name}.weight"].permute(2, 3, 1, 0)}


def conv_kernel_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    return {f"{torch_name}.weight": weights[f"{name}.W"].permute(3, 2, 0, 1).contiguous()}


BATCHNORM = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance"))


def batchnorm_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.BatchNorm2d ``weight``, ``bias`` → canonical ``name.gamma``, ``name.beta``; its buffers ``running_mean``,
    ``running_var`` → the state ``name.moving_mean``, ``name.moving_variance`` where ``tensors`` holds them (named
    parameters' gradients hold none).  ``num_batches_tracked`` is not canonical (unused with a set momentum)."""
    return {f"{name}.{ours}": tensors[f"{torch_name}.{theirs}"] for theirs, ours in BATCHNORM
            if f"{torch_name}.{theirs}" in tensors}


def batchnorm_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    return {f"{torch_name}.{theirs}": weights[f"{name}.{ours}"] for theirs, ours in BATCHNORM}


def conv_transpose_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.ConvTranspose2d ``weight`` (in, out, kh, kw) → canonical ``name.W`` (kh, kw, out, in) (Keras's
    Conv2DTranspose layout: the kernel of the convolution it is the adjoint of), permuted (2, 3, 1, 0); bias as is."""
    return {f"{name}.W": tensors[f"{torch_name}.weight"].permute(2, 3, 1, 0), f"{name}.b": tensors[f"{torch_name}.bias"]}


def conv_transpose_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    return {f"{torch_name}.weight": weights[f"{name}.W"].permute(3, 2, 0, 1).contiguous(),
            f"{torch_name}.bias": weights[f"{name}.b"]}


def lstm_to_canonical(tensors: dict, torch_name: str, layers: dict[int, str]) -> dict:
    """An nn.LSTM or nn.RNN (stacked, bidirectional or not) → canonical ``<name>[.forward|.backward].W`` (in, 4u)
    = ``weight_ih_l<k>[_reverse]``ᵀ, ``.U`` (u, 4u) = ``weight_hh_l<k>[_reverse]``ᵀ and the one bias ``.b``
    = ``bias_ih + bias_hh`` (an LSTM's gates i, f, g, o in both; an RNN has one block).  ``layers`` maps torch's layer index k to the
    canonical layer name; a bidirectional LSTM (it has ``_reverse`` parameters) gets both directions."""
    bidirectional = f"{torch_name}.weight_ih_l0_reverse" in tensors
    sides = (("forward", ""), ("backward", "_reverse")) if bidirectional else (("", ""),)
    out = {}
    for k, name in layers.items():
        for side, suffix in sides:
            key, p = f"{name}.{side}." if side else f"{name}.", f"{torch_name}.%s_l{k}{suffix}"
            out.update({key + "W": tensors[p % "weight_ih"].T, key + "U": tensors[p % "weight_hh"].T,
                        key + "b": tensors[p % "bias_ih"] + tensors[p % "bias_hh"]})
    return out


def lstm_from_canonical(weights: dict, torch_name: str, layers: dict[int, str], bidirectional: bool) -> dict:
    """The inverse of :func:`lstm_to_canonical`: a state_dict with ``bias_hh`` zero (the one bias in ``bias_ih``)."""
    sides = (("forward", ""), ("backward", "_reverse")) if bidirectional else (("", ""),)
    out = {}
    for k, name in layers.items():
        for side, suffix in sides:
            key, p = f"{name}.{side}." if side else f"{name}.", f"{torch_name}.%s_l{k}{suffix}"
            out.update({p % "weight_ih": weights[key + "W"].T.contiguous(),
                        p % "weight_hh": weights[key + "U"].T.contiguous(),
                        p % "bias_ih": weights[key + "b"], p % "bias_hh": torch.zeros_like(weights[key + "b"])})
    return out


def swap_r_z(blocks: torch.Tensor) -> torch.Tensor:
    """A GRU's gate blocks (r, z, n) ↔ (z, r, n) along the first axis (its own inverse)."""
    r, z, n = blocks.chunk(3)
    return torch.cat([z, r, n])


def gru_to_canonical(tensors: dict, torch_name: str, layers: dict[int, str]) -> dict:
    """An nn.GRU (stacked, bidirectional or not) → canonical ``<name>[.forward|.backward].W`` (in, 3u)
    = swap(``weight_ih_l<k>[_reverse]``)ᵀ, ``.U`` (u, 3u) = swap(``weight_hh_l<k>``)ᵀ and ``.b`` (2, 3u) =
    [swap(``bias_ih``), swap(``bias_hh``)]: torch's gate blocks r, z, n become Keras's z, r, h
    (``reset_after=True``, whose two bias rows are torch's two biases: b_hn sits inside r ⊙ (…), so the
    pair cannot be folded)."""
    bidirectional = f"{torch_name}.weight_ih_l0_reverse" in tensors
    sides = (("forward", ""), ("backward", "_reverse")) if bidirectional else (("", ""),)
    out = {}
    for k, name in layers.items():
        for side, suffix in sides:
            key, p = f"{name}.{side}." if side else f"{name}.", f"{torch_name}.%s_l{k}{suffix}"
            out.update({key + "W": swap_r_z(tensors[p % "weight_ih"]).T, key + "U": swap_r_z(tensors[p % "weight_hh"]).T,
                        key + "b": torch.stack([swap_r_z(tensors[p % "bias_ih"]), swap_r_z(tensors[p % "bias_hh"])])})
    return out


def gru_from_canonical(weights: dict, torch_name: str, layers: dict[int, str], bidirectional: bool) -> dict:
    """The inverse of :func:`gru_to_canonical`."""
    sides = (("forward", ""), ("backward", "_reverse")) if bidirectional else (("", ""),)
    out = {}
    for k, name in layers.items():
        for side, suffix in sides:
            key, p = f"{name}.{side}." if side else f"{name}.", f"{torch_name}.%s_l{k}{suffix}"
            out.update({p % "weight_ih": swap_r_z(weights[key + "W"].T).contiguous(),
                        p % "weight_hh": swap_r_z(weights[key + "U"].T).contiguous(),
                        p % "bias_ih": swap_r_z(weights[key + "b"][0]), p % "bias_hh": swap_r_z(weights[key + "b"][1])})
    return out


def layer_norm_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.LayerNorm ``weight``, ``bias`` (d,) → canonical ``name.gamma``, ``name.beta``."""
    return {f"{name}.gamma": tensors[f"{torch_name}.weight"], f"{name}.beta": tensors[f"{torch_name}.bias"]}


def layer_norm_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    return {f"{torch_name}.weight": weights[f"{name}.gamma"], f"{torch_name}.bias": weights[f"{name}.beta"]}


def attention_to_canonical(tensors: dict, torch_name: str, name: str) -> dict:
    """nn.MultiheadAttention (packed) → canonical ``name.{query,key,value,out}.W`` (d, d) and the query, value and
    out biases: ``in_proj_weight`` (3d, d) is [W_qᵀ; W_kᵀ; W_vᵀ], ``in_proj_bias`` [b_q, b_k, b_v] (b_k has no
    effect under softmax and is not canonical), ``out_proj`` a Linear.  Head j owns columns [j·k, (j+1)·k) in both."""
    w_q, w_k, w_v = tensors[f"{torch_name}.in_proj_weight"].chunk(3, dim=0)
    b_q, _, b_v = tensors[f"{torch_name}.in_proj_bias"].chunk(3)
    return stack({f"{name}.query.W": w_q.T, f"{name}.query.b": b_q, f"{name}.key.W": w_k.T,
                  f"{name}.value.W": w_v.T, f"{name}.value.b": b_v},
                 linear_to_canonical(tensors, f"{torch_name}.out_proj", f"{name}.out"))


def attention_from_canonical(weights: dict, name: str, torch_name: str) -> dict:
    """The inverse of :func:`attention_to_canonical`, with the key bias zero."""
    b_q = weights[f"{name}.query.b"]
    return stack({f"{torch_name}.in_proj_weight": torch.cat([weights[f"{name}.{p}.W"].T for p in ("query", "key", "value")]),
                  f"{torch_name}.in_proj_bias": torch.cat([b_q, torch.zeros_like(b_q), weights[f"{name}.value.b"]])},
                 linear_from_canonical(weights, f"{name}.out", f"{torch_name}.out_proj"))
