"""Test helpers shared by the layer-level tests."""
from __future__ import annotations

import numpy as np

from triptych.tolerances import FD_DELTA


def operation_fd_errors(op, x: np.ndarray, entries: int = 20, seed: int = 0) -> dict[str, float]:
    """A scratch operation's backward against central differences of L = Σ op(x) ⊙ R (R random).

    Checks ``entries`` sampled entries of the input and of every parameter; returns
    {"input" or parameter name: max error relative to the largest analytic gradient}.
    """
    rng = np.random.default_rng(seed)
    R = rng.normal(size=op.forward(x).shape)
    analytic = {"input": op.backward(R).copy(), **{k: v.copy() for k, v in getattr(op, "param_grads", {}).items()}}
    arrays = {"input": x, **getattr(op, "params", {})}
    errors = {}
    for name, array in arrays.items():
        flat = rng.choice(array.size, size=min(entries, array.size), replace=False)
        numeric = []
        for index in flat:
            pos = np.unravel_index(index, array.shape)
            original = array[pos]
            losses = []
            for sign in (1, -1):
                array[pos] = original + sign * FD_DELTA
                losses.append(float(np.sum(op.forward(x) * R)))
            array[pos] = original
            numeric.append((losses[0] - losses[1]) / (2 * FD_DELTA))
        grad = analytic[name]
        errors[name] = float(np.max(np.abs(np.array(numeric) - grad.reshape(-1)[flat])) / np.max(np.abs(grad)))
    return errors


# ---------------------------------------------------------------- recurrent layers, float64


def torch_recurrent(layer, x: np.ndarray, R: np.ndarray, return_sequences: bool):
    """A torch recurrent layer (batch_first) on x: its output (every state, or the last) and, after the
    backward pass of Σ output ⊙ R, {parameter name: gradient tensor} and dL/dx."""
    import torch

    xt = torch.from_numpy(x).requires_grad_(True)
    seq, state = layer(xt)
    h_last = state[0] if isinstance(state, tuple) else state  # the LSTM returns (h, c)
    out = seq if return_sequences else h_last[-1]
    (out * torch.from_numpy(R)).sum().backward()
    return out.detach().numpy(), {name: p.grad for name, p in layer.named_parameters()}, xt.grad.numpy()


def keras_recurrent(layer, weights, x: np.ndarray, R: np.ndarray):
    """A Keras recurrent layer with its cell's kernel, recurrent kernel and bias set to ``weights``
    (W, U, b) on x: its output and the gradients of Σ output ⊙ R, {"W", "U", "b", "x"}."""
    import tensorflow as tf

    layer.build(x.shape)
    variables = (layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias)
    for variable, value in zip(variables, weights):
        variable.assign(value)
    xk = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xk)
        out = layer(xk)
        loss = tf.reduce_sum(out * R)
    grads = tape.gradient(loss, [*variables, xk])
    return out.numpy(), dict(zip(("W", "U", "b", "x"), (g.numpy() for g in grads)))


def torch_second_bias_runs(model: str, units: int) -> tuple[np.ndarray, np.ndarray, dict[bool, np.ndarray]]:
    """The one canonical bias ``<model>.b`` of a recurrent model whose torch layer (``net.native.<model>``)
    has torch's pair b_ih, b_hh, after 5 epochs of SGD lr 0.5 from the same weights: (start, scratch's,
    {frozen: torch's}) with b_hh frozen at zero (Triptych's choice) and with b_hh trained too."""
    from triptych.frameworks import get_framework
    from triptych.parity import parity_problem, parity_weights
    from triptych.registry import resolve

    scratch, torch_fw = get_framework("scratch"), get_framework("torch")
    X, y = parity_problem(model, resolve(model, {"units": units}), 16, seq_len=5)
    reference = scratch.build(model, units=units)
    w0 = parity_weights(scratch, reference)
    train = dict(epochs=5, batch_size=4, lr=0.5, optimizer="sgd", seed=0)
    runs = {}
    for frozen in (True, False):
        net = torch_fw.build(model, units=units)
        torch_fw.set_weights(net, w0)
        getattr(net.native, model).bias_hh_l0.requires_grad_(not frozen)
        torch_fw.train(net, X, y, **train)
        runs[frozen] = torch_fw.get_weights(net)[f"{model}.b"]
    scratch.set_weights(reference, w0)
    scratch.train(reference, X, y, **train)
    return w0[f"{model}.b"], scratch.get_weights(reference)[f"{model}.b"], runs
