"""L2 weight decay three ways (linreg's ``l2`` option): the ladder with a penalty, the objective that
loss_and_grads reports, and the conventions that differ (Keras's L2 factor, torch's decay of biases,
decoupled decay)."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.batching import epoch_batches
from triptych.frameworks import FRAMEWORKS, TrainPlan, get_framework
from triptych.parity import max_abs, parity_problem, parity_weights, run_ladder, worst
from triptych.registry import resolve
from triptych.tolerances import PARITY_ADAM_EPSILON, TOLERANCES

F = 5
X, Y = parity_problem("linreg", resolve("linreg", {"in_features": F}), 40, seed=6)
LAM = 0.6  # λ/2 = 0.3 is no float32 number: Keras's L2 factor must stay float64
WD = 0.5  # decoupled decay (Keras casts weight_decay through float32: 0.5 is exact there)
W0 = parity_weights(get_framework("scratch"), get_framework("scratch").build("linreg", in_features=F), seed=6)


def run(framework: str, l2: float = 0.0, epochs: int = 5, **train):
    """linreg from W0 trained on (X, Y), batch 8, float64: (per-step losses, final weights)."""
    fw = get_framework(framework)
    net = fw.build("linreg", in_features=F, l2=l2)
    fw.set_weights(net, W0)
    history = fw.train(net, X, Y, epochs=epochs, batch_size=8, seed=2, **{"optimizer": "sgd", "lr": 0.05, **train})
    return np.array(history["loss"]), fw.get_weights(net)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ladder_with_l2(dtype):
    """Every rung and pair with l2 = 0.7: the penalty is in the loss, the gradients and the steps of all three
    (λ/2 = 0.35 is not a float32 number, so Keras's factor must stay float64)."""
    results = run_ladder("linreg", dtype, overrides={"l2": 0.7})
    assert {r.rung for r in results} == set(TOLERANCES[dtype])
    failures = [f"rung {r.rung} {r.pair}: {r.value:.3e} > {r.tolerance:.0e}" for r in results if r.passed is False]
    assert not failures, "\n".join(failures)


def test_loss_and_grads_report_the_penalised_objective(fw):
    """L = mean((Xw + b − y)²) + λ/2·‖w‖², dL/dw = 2Xᵀr/N + λw, dL/db = 2Σr/N (b not penalised), in every
    framework; the training history records the same objective."""
    net = fw.build("linreg", in_features=F, l2=LAM)
    fw.set_weights(net, W0)
    w, b = W0["linear.W"], W0["linear.b"]
    r = X @ w + b - Y
    loss, grads = fw.loss_and_grads(net, X, Y)
    assert loss == pytest.approx(np.mean(r ** 2) + LAM / 2 * np.sum(w ** 2), abs=1e-12)
    assert max_abs(grads["linear.W"], 2 * X.T @ r / len(X) + LAM * w) <= 1e-12
    assert max_abs(grads["linear.b"], 2 * r.sum(axis=0) / len(X)) <= 1e-12
    first = fw.train(net, X, Y, epochs=1, batch_size=None, lr=0.01)["loss"][0]
    assert first == pytest.approx(loss, abs=1e-12)


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_l2_is_refused(fw, value):
    with pytest.raises(ValueError, match=r"model 'linreg': option 'l2' must be a finite number ≥ 0"):
        fw.build("linreg", l2=value)


def test_keras_l2_factor_is_half_lambda():
    """Keras's L2(l) adds l·‖w‖² (gradient 2l·w), so d2l's λ/2·‖w‖², which torch's weight_decay=λ
    minimises, is L2(λ/2); L2(λ) decays twice as hard.  L2 also casts its factor through float32, even for a float64
    kernel: linreg keeps it exact in float64 models."""
    import keras
    import tensorflow as tf

    w = keras.Variable(np.array([[0.3], [-1.2]]), dtype="float64")
    with tf.GradientTape() as tape:
        penalty = keras.regularizers.L2(0.25)(w)
    assert float(penalty) == pytest.approx(0.25 * (0.3 ** 2 + 1.2 ** 2), abs=1e-15)
    assert max_abs(tape.gradient(penalty, w), 2 * 0.25 * w.numpy()) <= 1e-15

    torch_run, keras_run = run("torch", LAM), run("keras", LAM)
    keras_lambda = run("keras", 2 * LAM)  # linreg's l2 = 2λ is Keras's L2(λ): λ·‖w‖²
    assert worst(torch_run[1], keras_run[1], max_abs)[0] <= 1e-9 and max_abs(torch_run[0], keras_run[0]) <= 1e-9
    assert worst(torch_run[1], keras_lambda[1], max_abs)[0] > 1e-3

    assert float(keras.regularizers.L2(0.35)(keras.Variable(np.ones(1), dtype="float64"))) == float(np.float32(0.35))
    net = get_framework("keras").build("linreg", in_features=F, l2=0.7, dtype="float64")
    assert net.native.get_layer("linear").kernel_regularizer.l2 == 0.35


def test_torch_weight_decay_hits_the_bias_unless_grouped_out():
    """torch's optimizer weight_decay=λ decays every parameter it is given, the bias too — that is
    λ/2·(‖w‖² + b²), the seed's formula.  Triptych follows d2l's code (weight only): linreg's torch optimizer
    gets two parameter groups, weight_decay λ on the weight and none on the bias, and matches scratch's
    λ/2·‖w‖²; the ungrouped decay matches scratch's decay of every parameter."""
    from torch_impl.linreg import param_groups

    net = get_framework("torch").build("linreg", in_features=F, l2=LAM)
    groups = param_groups(net.native)
    assert [g.get("weight_decay", 0.0) for g in groups] == [LAM, 0.0]
    assert groups[1]["params"][0] is net.native.linear.bias

    grouped, weight_only = run("torch", LAM), run("scratch", LAM)
    everything, every_param = run("torch", weight_decay=LAM), run("scratch", weight_decay=LAM)
    assert worst(grouped[1], weight_only[1], max_abs)[0] <= 1e-9
    assert worst(everything[1], every_param[1], max_abs)[0] <= 1e-9
    assert max_abs(grouped[1]["linear.b"], everything[1]["linear.b"]) > 1e-3


@pytest.mark.usefixtures("keras_fw")  # Keras set up (keras_impl.setup) before it is imported here
def test_decoupled_weight_decay_is_not_l2():
    """AdamW and Keras's weight_decay= shrink the weight by lr·λ·w beside the Adam step, outside the
    gradient, so Adam's scaling never sees it: their trajectories agree with each other and differ from
    L2's (λ/2·‖w‖² in the loss, in all three).  Under plain SGD the two are the same update."""
    import keras
    import tensorflow as tf
    import torch

    from keras_impl.training import floatx, make_optimizer

    adam = dict(optimizer="adam", lr=0.05, epsilon=PARITY_ADAM_EPSILON)
    l2 = {f: run(f, WD, **adam) for f in FRAMEWORKS}
    for f in ("torch", "keras"):
        assert worst(l2[f][1], l2["scratch"][1], max_abs)[0] <= 1e-9 and max_abs(l2[f][0], l2["scratch"][0]) <= 1e-9

    def batches():
        return [idx for epoch in range(5) for idx in epoch_batches(len(X), 8, 2, epoch)]

    torch_fw = get_framework("torch")
    net = torch_fw.build("linreg", in_features=F)
    torch_fw.set_weights(net, W0)
    model = net.native
    opt = torch.optim.AdamW([{"params": [model.linear.weight], "weight_decay": WD},
                             {"params": [model.linear.bias], "weight_decay": 0.0}], lr=0.05, eps=PARITY_ADAM_EPSILON)
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    for idx in batches():
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(Xt[idx]), Yt[idx]).backward()
        opt.step()
    adamw = torch_fw.get_weights(net)

    keras_fw = get_framework("keras")
    net = keras_fw.build("linreg", in_features=F)
    keras_fw.set_weights(net, W0)
    variables = net.native.trainable_variables
    with floatx("float64"):
        opt = make_optimizer(TrainPlan(5, 8, 0.05, "adam", {"epsilon": PARITY_ADAM_EPSILON, "weight_decay": WD}, 2))
        opt.exclude_from_weight_decay(var_names=["bias"])
        for idx in batches():
            with tf.GradientTape() as tape:
                loss = keras.losses.MeanSquaredError()(Y[idx], net.native(X[idx]))
            opt.apply(tape.gradient(loss, variables), variables)
    decoupled = keras_fw.get_weights(net)

    assert worst(adamw, decoupled, max_abs)[0] <= 1e-9
    assert worst(adamw, l2["torch"][1], max_abs)[0] > 1e-3

    sgd_decoupled = run("keras", weight_decay=WD)  # keras.optimizers.SGD(weight_decay=λ), every variable
    sgd_l2 = run("scratch", weight_decay=WD)  # λ/2·(‖w‖² + b²) in the gradient
    assert worst(sgd_decoupled[1], sgd_l2[1], max_abs)[0] <= 1e-9
