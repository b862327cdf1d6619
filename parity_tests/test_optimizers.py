"""Optimizer parity with each framework's stock optimizer, and the formulas that differ."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.parity import max_abs, parity_problem, parity_weights, worst
from triptych.registry import resolve
from triptych.tolerances import PARITY_ADAM_EPSILON, PARITY_RMSPROP_EPSILON

X, Y = parity_problem("house_mlp", resolve("house_mlp"), 64, seed=4)


def run(framework: str, epochs: int, dtype: str = "float64", **train):
    fw = get_framework(framework)
    scratch = get_framework("scratch")
    net = fw.build("house_mlp", dtype=dtype)
    fw.set_weights(net, parity_weights(scratch, scratch.build("house_mlp"), seed=4))
    history = fw.train(net, X, Y, epochs=epochs, batch_size=8, seed=1, **train)
    return np.array(history["loss"]), fw.get_weights(net)


OPTIMIZERS = {
    "sgd": dict(optimizer="sgd", lr=0.05),
    "momentum": dict(optimizer="sgd", lr=0.05, momentum=0.9),
    "nesterov": dict(optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True),
    "adam": dict(optimizer="adam", lr=0.01, epsilon=PARITY_ADAM_EPSILON),
    # RMSprop: the same rho everywhere (the defaults differ) and a tiny epsilon (its placement differs)
    **{f"rmsprop{'_centered' * centered}{'_momentum' * bool(momentum)}":
       dict(optimizer="rmsprop", lr=0.01, rho=0.9, epsilon=PARITY_RMSPROP_EPSILON, momentum=momentum, centered=centered)
       for centered in (False, True) for momentum in (0.0, 0.9)},
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_one_step_and_trajectory_match(name):
    """One step (≤ 1e-12) and 56 steps (≤ 1e-9) with torch.optim / keras.optimizers vs scratch."""
    one = {f: run(f, 1, **{**OPTIMIZERS[name]})[1] for f in FRAMEWORKS}
    traj = {f: run(f, 7, **OPTIMIZERS[name]) for f in FRAMEWORKS}
    for a, b in [("scratch", "torch"), ("scratch", "keras"), ("torch", "keras")]:
        assert worst(one[a], one[b], max_abs)[0] <= 1e-12, (name, a, b)
        assert len(traj[a][0]) == 56
        assert max_abs(traj[a][0], traj[b][0]) <= 1e-9, (name, a, b)
        assert worst(traj[a][1], traj[b][1], max_abs)[0] <= 1e-9, (name, a, b)


def test_adam_epsilon_defaults_and_placement_differ():
    """torch: ε inside the corrected root (default 1e-8); Keras: ε̂ outside (default 1e-7)."""
    defaults = {f: run(f, 7, optimizer="adam", lr=0.01) for f in ("torch", "keras")}
    same_eps = {f: run(f, 7, optimizer="adam", lr=0.01, epsilon=1e-3) for f in ("torch", "keras", "scratch")}
    tiny = {f: run(f, 7, optimizer="adam", lr=0.01, epsilon=PARITY_ADAM_EPSILON) for f in ("torch", "keras")}
    assert worst(defaults["torch"][1], defaults["keras"][1], max_abs)[0] > 1e-7
    assert worst(same_eps["torch"][1], same_eps["keras"][1], max_abs)[0] > 1e-6  # placement alone
    assert worst(same_eps["torch"][1], same_eps["scratch"][1], max_abs)[0] <= 1e-9  # scratch follows torch
    assert worst(tiny["torch"][1], tiny["keras"][1], max_abs)[0] <= 1e-9


def test_rmsprop_defaults_and_epsilon_placement_differ():
    """torch: alpha (ρ) 0.99, eps 1e-8 outside the root, √v + ε; Keras: rho 0.9, epsilon 1e-7 inside, √(v + ε)."""
    import keras
    import torch

    torch_defaults, keras_default = torch.optim.RMSprop([torch.zeros(1)]).defaults, keras.optimizers.RMSprop()
    assert (torch_defaults["alpha"], torch_defaults["eps"]) == (0.99, 1e-8)
    assert (keras_default.rho, keras_default.epsilon) == (0.9, 1e-7)
    defaults = {f: run(f, 7, optimizer="rmsprop", lr=0.01) for f in ("torch", "keras")}
    same_eps = {f: run(f, 7, optimizer="rmsprop", lr=0.01, rho=0.9, epsilon=1e-3) for f in FRAMEWORKS}
    assert worst(defaults["torch"][1], defaults["keras"][1], max_abs)[0] > 1e-4
    assert worst(same_eps["torch"][1], same_eps["keras"][1], max_abs)[0] > 1e-6  # placement alone
    assert worst(same_eps["torch"][1], same_eps["scratch"][1], max_abs)[0] <= 1e-9  # scratch follows torch


@pytest.mark.parametrize("centered", [False, True], ids=["plain", "centered"])
@pytest.mark.parametrize("momentum", [0.0, 0.5], ids=["no-momentum", "momentum"])
@pytest.mark.usefixtures("keras_fw")  # Keras set up (keras_impl.setup) before it is imported here
def test_rmsprop_formulas_read_from_the_sources(centered, momentum):
    """torch.optim.RMSprop and keras.optimizers.RMSprop on one float64 weight against the formulas read in
    torch/optim/rmsprop.py (2.13) and keras/src/optimizers/rmsprop.py (3.15), with ε large enough to show:

        both:   v ← ρv + (1 − ρ) g²;  centered ḡ ← ρḡ + (1 − ρ) g, v' = v − ḡ², else v' = v
        torch:  d = g / (√v' + ε);   b ← μb + d, w ← w − lr·b          (no momentum: w ← w − lr·d)
        Keras:  d = lr·g / √(v' + ε); m ← μm + d, w ← w − m            (no momentum: w ← w − d)"""
    import keras
    import torch

    from keras_impl.training import floatx

    lr, rho, eps, grads = 0.1, 0.9, 0.05, (0.3, -0.7, 0.2, 0.05)

    def by_hand(placement):
        w, v, mean, buf = 1.0, 0.0, 0.0, 0.0
        for g in grads:
            v = rho * v + (1 - rho) * g * g
            mean = rho * mean + (1 - rho) * g if centered else 0.0
            spread = v - mean * mean
            d = g / (np.sqrt(spread) + eps) if placement == "torch" else lr * g / np.sqrt(spread + eps)
            buf = momentum * buf + d if momentum else d
            w -= lr * buf if placement == "torch" else buf
        return w

    w_torch = torch.ones(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RMSprop([w_torch], lr=lr, alpha=rho, eps=eps, momentum=momentum, centered=centered)
    for g in grads:
        w_torch.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
    with floatx("float64"):
        w_keras = keras.Variable(np.array([1.0]), dtype="float64")
        opt = keras.optimizers.RMSprop(learning_rate=lr, rho=np.float64(rho), epsilon=np.float64(eps),
                                       momentum=np.float64(momentum), centered=centered)
        for g in grads:
            opt.apply([np.array([g])], [w_keras])
    assert w_torch.item() == pytest.approx(by_hand("torch"), abs=1e-15)
    assert w_keras.numpy()[0] == pytest.approx(by_hand("keras"), abs=1e-15)
    assert abs(by_hand("torch") - by_hand("keras")) > 1e-3


def test_rmsprop_momentum_differs_only_under_a_changing_learning_rate():
    """torch's buffer holds g / s and is scaled by lr when applied; Keras's holds lr·g / s: the same at a
    constant lr, not under a schedule (as for SGD momentum)."""
    rms = dict(optimizer="rmsprop", lr=0.01, rho=0.9, epsilon=PARITY_RMSPROP_EPSILON, momentum=0.9)
    decayed = {f: run(f, 7, **rms, lr_decay="exponential", decay_rate=0.5) for f in FRAMEWORKS}
    assert worst(decayed["torch"][1], decayed["keras"][1], max_abs)[0] > 1e-4
    assert worst(decayed["torch"][1], decayed["scratch"][1], max_abs)[0] <= 1e-9


def test_momentum_differs_only_under_a_changing_learning_rate():
    """Keras v ← μv − lr·g vs torch b ← μb + g: the same at constant lr, not under decay."""
    decay = dict(optimizer="sgd", lr=0.05, momentum=0.9, lr_decay="exponential", decay_rate=0.5)
    results = {f: run(f, 7, **decay) for f in FRAMEWORKS}
    assert worst(results["torch"][1], results["keras"][1], max_abs)[0] > 1e-4
    assert worst(results["torch"][1], results["scratch"][1], max_abs)[0] <= 1e-9
    plain = {f: run(f, 7, optimizer="sgd", lr=0.05, lr_decay="exponential", decay_rate=0.5) for f in FRAMEWORKS}
    for f in ("torch", "keras"):  # without momentum the schedules agree in all three
        assert worst(plain[f][1], plain["scratch"][1], max_abs)[0] <= 1e-9


def test_learning_rate_schedules_apply_the_same_rate_per_epoch():
    for decay in ("linear", "exponential"):
        results = {f: run(f, 7, optimizer="sgd", lr=0.05, lr_decay=decay, decay_rate=0.1) for f in FRAMEWORKS}
        for f in ("torch", "keras"):
            assert worst(results[f][1], results["scratch"][1], max_abs)[0] <= 1e-9, (decay, f)


def test_weight_decay_is_l2_in_torch_and_decoupled_in_keras():
    import torch

    wd = dict(optimizer="adam", lr=0.01, epsilon=PARITY_ADAM_EPSILON, weight_decay=0.1)
    results = {f: run(f, 3, **wd) for f in FRAMEWORKS}
    assert worst(results["torch"][1], results["scratch"][1], max_abs)[0] <= 1e-9  # scratch = torch's L2
    assert worst(results["torch"][1], results["keras"][1], max_abs)[0] > 1e-4
    # Keras's decoupled decay is torch's AdamW: w ← w − lr·λ·w, then the Adam step
    torch_fw, scratch = get_framework("torch"), get_framework("scratch")
    net = torch_fw.build("house_mlp")
    torch_fw.set_weights(net, parity_weights(scratch, scratch.build("house_mlp"), seed=4))
    from triptych.batching import epoch_batches
    model = net.native
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, eps=PARITY_ADAM_EPSILON, weight_decay=0.1)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    for epoch in range(3):
        for idx in epoch_batches(len(X), 8, 1, epoch):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(Xt[idx]), Yt[idx]).backward()
            opt.step()
    assert worst(torch_fw.get_weights(net), results["keras"][1], max_abs)[0] <= 1e-9


@pytest.mark.usefixtures("keras_fw")  # Keras set up (keras_impl.setup) before it is imported here
def test_keras_rounds_python_float_hyperparameters_through_float32():
    """keras.optimizers.SGD(momentum=0.9) in a float64 model acts with float32(0.9); an np.float64 scalar
    is exact, while an np.float32 one is refused (it is no Python float).  That is why
    keras_impl.training.optimizer_options passes np.float64 in float64 models and plain floats otherwise."""
    import keras

    from keras_impl.training import floatx

    def keras_sgd(momentum):
        with floatx("float64"):
            v = keras.Variable(np.array([1.0]), dtype="float64")
            opt = keras.optimizers.SGD(learning_rate=0.05, momentum=momentum)
            for g in (0.3, 0.7, -0.2):
                opt.apply([np.array([g])], [v])
            return v.numpy()[0]

    w, b = 1.0, None
    for g in (0.3, 0.7, -0.2):  # torch / scratch formula in float64
        b = g if b is None else 0.9 * b + g
        w -= 0.05 * b
    assert abs(keras_sgd(0.9) - w) > 1e-10
    assert keras_sgd(np.float64(0.9)) == pytest.approx(w, abs=1e-15)
    with pytest.raises(ValueError, match="momentum"):
        keras.optimizers.SGD(momentum=np.float32(0.9))
