"""``triptych.compare``: the parity ladder (DESIGN.md) for any torch model and its Keras port.

Rungs, on working copies (porting/working.py) from identical weights: 1 forward in inference and in training
mode; 2 the training-mode loss; 3 every parameter's gradient and the input's; 4 weights and state after one
optimizer step; 5 per-step losses and final weights after ``steps`` steps on the same batch.  Tolerances are
triptych/tolerances.py's for the dtype compare runs in.  A difference no setting removes (torch's unbiased running
variance) is measured and reported under its name, never failed.
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field

import numpy as np

from porting import pairing
from porting.divergence import Divergence, first_divergence
from triptych.parity import RungResult, format_table, max_abs, max_rel, worst
from triptych.tolerances import KNOWN_DIFFERENCES, PARITY_EPSILONS, RUNGS, TOLERANCES, parity_epsilon

LOSSES = ("mse", "cross_entropy", "bce")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
EQUIVALENCES = {  # what compare sets so that torch's and Keras's optimizers compute one formula
    "adam": "Adam: Keras adds ε outside the bias-corrected root, torch inside; no constant makes them equal, so ε = "
            "{epsilon:g} in both",
    "rmsprop": "RMSprop: Keras √(v + ε), torch √v + ε, so ε = {epsilon:g} in both; Keras rho = torch alpha = {rho:g}",
    "sgd": "SGD momentum {momentum:g}: Keras v ← μv − lr·g, w ← w + v equals torch b ← μb + g, w ← w − lr·b at a "
           "constant lr",
}


@dataclass
class CompareResult:
    dtype: str
    rungs: list
    pairs: list
    known_differences: dict = field(default_factory=dict)  # name → (figure, why)
    equivalences: list = field(default_factory=list)
    first_divergence: Divergence | None = None
    notes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed is not False for r in self.rungs)

    def table(self) -> str:
        lines = [f"compare in {self.dtype}: {'PASSED' if self.passed else 'FAILED'}", format_table(self.rungs)]
        lines += [f"known difference {n!r}: {v:.3g} ({why})" for n, (v, why) in self.known_differences.items()]
        lines += [f"set: {e}" for e in self.equivalences] + [f"note: {n}" for n in self.notes]
        lines += ["pairs:"] + [f"  {p}" for p in self.pairs]
        lines.append(str(self.first_divergence) if self.first_divergence else "first divergence: none")
        return "\n".join(lines)

    __str__ = table


def _plan(optimizer: str, lr: float, options: dict | None, dtype: str) -> tuple[object, str]:
    from keras_impl.training import KERAS_DEFAULTS

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer {optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
    opts = {**KERAS_DEFAULTS[optimizer], **(options or {})}
    if optimizer in PARITY_EPSILONS and "epsilon" not in (options or {}):
        opts["epsilon"] = parity_epsilon(optimizer, dtype)
    return types.SimpleNamespace(optimizer=optimizer, lr=lr, options=opts), EQUIVALENCES[optimizer].format(**opts)


def _losses(loss: str):
    import keras
    from torch import nn

    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r}: expected one of {', '.join(LOSSES)}")
    torch_loss = {"mse": nn.MSELoss, "cross_entropy": nn.CrossEntropyLoss, "bce": nn.BCELoss}[loss]()
    keras_loss = {"mse": lambda: keras.losses.MeanSquaredError(),
                  "cross_entropy": lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  "bce": lambda: keras.losses.BinaryCrossentropy()}[loss]()
    return torch_loss, keras_loss


def input_shape(model) -> tuple | None:
    """A Sequential's or functional model's input shape (None for a subclassed model: it has none until called)."""
    inputs = getattr(model, "inputs", None)
    try:
        return tuple(inputs[0].shape) if inputs else None
    except (AttributeError, IndexError, ValueError):
        return None


def to_keras_layout(array: np.ndarray, shape) -> np.ndarray:
    """``array`` as the torch side holds it → the Keras ``shape`` (None a wildcard): as it is, or channels last.
    Without a shape (a subclassed model's input), an image batch (4-D) moves channels last and others stay."""
    if shape is None:
        return np.ascontiguousarray(np.moveaxis(array, 1, -1)) if array.ndim == 4 else array

    def fits(a):
        return a.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, a.shape))
    if fits(array):
        return array
    moved = np.moveaxis(array, 1, -1) if array.ndim >= 3 else array
    if fits(moved):
        return np.ascontiguousarray(moved)
    raise ValueError(f"an array of shape {array.shape} (as torch takes it) fits the Keras shape {tuple(shape)} "
                     f"neither as it is nor channels last")


class Session:
    """The two working copies, their pairs, and the operations of the ladder on them."""

    def __init__(self, torch_model, keras_model, X, y, loss, pairs, transfer, dtype):
        from porting import working

        self.notes, self.restore = [], None
        wanted = dtype or "float64"
        self.keras, why = working.keras_copy(keras_model, wanted)
        if self.keras is None:
            if dtype == "float64":
                raise ValueError(f"dtype='float64': the Keras model cannot be rebuilt in float64 ({why}); expected a "
                                 f"Sequential or functional model, or a subclassed one with get_config")
            weights = keras_model.weights
            self.keras, wanted = keras_model, str(weights[0].dtype) if weights else "float32"
            self.restore = working.in_place(keras_model)
            self.notes.append(f"the Keras model cannot be rebuilt from its config ({why}): compare runs on it as it "
                              f"is, in {wanted} at the {wanted} tolerances (its weights and dropout rates restored "
                              f"after)")
        self.dtype = wanted
        try:
            self._setup(torch_model, X, y, loss, pairs, transfer)
        except Exception:
            self.close()
            raise

    def _setup(self, torch_model, X, y, loss, pairs, transfer) -> None:
        import torch

        from torch_impl import layer_kinds
        from porting import working

        wanted = self.dtype
        self.torch = working.torch_copy(torch_model, wanted)
        self.X = np.asarray(X)
        if np.issubdtype(self.X.dtype, np.floating):
            self.X = self.X.astype(wanted)
        self.X_torch = pairing._torch_input(self.torch, self.X)
        self.X_keras = to_keras_layout(self.X, input_shape(self.keras))
        self.pairs = pairing.pair_layers(self.torch, self.keras, self.X_torch, pairs)
        self._cover()
        if transfer == "keras":
            for p in self.pairs:
                pairing.set_torch(p, pairing.keras_canonical(p))
        folded = [p.torch_name for p in self.pairs if layer_kinds.fold_bias(p.module)]
        if folded:
            self.notes.append(f"bias_hh folded into bias_ih and frozen at zero in {', '.join(folded)} (the two "
                              f"biases only act as their sum; Keras has one)")
        if transfer in ("torch", "keras"):
            for p in self.pairs:
                pairing.set_keras(p, pairing.torch_canonical(p))
        elif transfer is not None:
            raise ValueError(f"transfer={transfer!r}: expected 'torch', 'keras' or None (the weights as they are)")
        self.start = {k: v.clone() for k, v in self.torch.state_dict().items()}
        self.keras_start = [np.array(w) for w in self.keras.get_weights()]
        from keras_impl.training import floatx

        with floatx(wanted):  # a Keras loss computes in the floatx it was made under
            self.torch_loss, self.keras_loss = _losses(loss)
        self.y = self._targets(loss) if y is None else np.asarray(y)
        if loss == "cross_entropy":
            self.y_torch = torch.as_tensor(self.y, dtype=torch.long)
        else:
            self.y = self.y.astype(wanted)
            self.y_torch = torch.as_tensor(self.y)
        self.y_keras = self.y if loss == "cross_entropy" else to_keras_layout(self.y, self.keras_forward(False).shape)

    def _cover(self) -> None:
        """Every trainable parameter on each side belongs to a pair (else a layer of no known kind holds it)."""
        torch_ids = {id(t) for p in self.pairs for t in p.module.parameters()}
        loose = [n for n, t in self.torch.named_parameters() if id(t) not in torch_ids]
        keras_ids = {id(v) for p in self.pairs for v in pairing.keras_variables(p).values()}
        left = [v.path for v in self.keras.trainable_variables if id(v) not in keras_ids]
        if loose or left:
            raise ValueError(f"parameters outside any pairable layer: torch {loose or 'none'}, Keras {left or 'none'}; "
                             f"expected every weight in a layer of a known kind (torch_impl/layer_kinds.py)")

    def _targets(self, loss: str) -> np.ndarray:
        out = self.torch_forward(train=False)
        rng = np.random.default_rng(0)
        if loss == "cross_entropy":
            return rng.integers(0, out.shape[1], size=out.shape[0])
        return rng.uniform(size=out.shape) if loss == "bce" else rng.standard_normal(out.shape)

    def reset(self) -> None:
        self.torch.load_state_dict(self.start)
        self.keras.set_weights(self.keras_start)

    def torch_forward(self, train: bool) -> np.ndarray:
        import torch

        self.torch.train(train)
        with torch.no_grad():
            return self.torch(self.X_torch).detach().numpy()

    def keras_forward(self, train: bool) -> np.ndarray:
        import keras

        return keras.ops.convert_to_numpy(self.keras(self.X_keras, training=train))

    def close(self) -> None:
        """The user's Keras model as it was, where compare ran on it (it could not be rebuilt)."""
        if self.restore:
            self.restore()

    def canonical(self, side: str) -> dict:
        get = pairing.torch_canonical if side == "torch" else pairing.keras_canonical
        return {f"{p.torch_name}.{k}": v for p in self.pairs for k, v in get(p).items()}

    def torch_loss_and_grads(self):
        import torch

        self.torch.train(True)
        x = self.X_torch.clone().requires_grad_(self.X_torch.is_floating_point())
        for t in self.torch.parameters():
            t.grad = None
        loss = self.torch_loss(self.torch(x), self.y_torch)
        loss.backward()
        grads = {}
        for p in self.pairs:
            tensors = {n: t.grad if t.grad is not None else torch.zeros_like(t) for n, t in p.module.named_parameters()}
            grads.update({f"{p.torch_name}.{k}": v for k, v in pairing.torch_canonical(p, tensors).items()})
        dx = x.grad.numpy() if x.grad is not None else None
        return float(loss.detach()), grads, dx

    def keras_trainable(self) -> dict:
        return {(p, k): v for p in self.pairs for k, v in pairing.keras_variables(p).items() if v.trainable}

    def keras_loss_and_grads(self):
        from keras_impl import backend

        variables = self.keras_trainable()
        loss, arrays, dx = backend.value_and_grads(self.keras, self.keras_loss, list(variables.values()),
                                                   self.X_keras, self.y_keras)
        by_pair = {}
        for (p, k), g in zip(variables, arrays):
            by_pair.setdefault(p.torch_name, (p, {}))[1][k] = g
        grads = {f"{name}.{k}": v for name, (p, g) in by_pair.items() for k, v in pairing.keras_canonical(p, g).items()}
        return loss, grads, arrays, dx

    def optimizers(self, plan):
        from keras_impl.training import floatx, make_optimizer
        from torch_impl import training

        with floatx(self.dtype):
            keras_opt = make_optimizer(plan)
        torch_opt = training.make_optimizer([t for t in self.torch.parameters() if t.requires_grad], plan)
        return torch_opt, keras_opt

    def step(self, torch_opt, keras_opt) -> tuple[float, float, dict, dict]:
        """One optimizer step on each side: (torch loss, Keras loss, torch gradients, Keras gradients) before it."""
        import keras

        from keras_impl.training import floatx

        loss_t, grads_t, _ = self.torch_loss_and_grads()
        torch_opt.step()
        loss_k, grads_k, arrays, _ = self.keras_loss_and_grads()
        with floatx(self.dtype):
            keras_opt.apply([keras.ops.convert_to_tensor(g) for g in arrays], list(self.keras_trainable().values()))
        return loss_t, loss_k, grads_t, grads_k


ROUNDING_LEVEL = (
    "Adam and RMSprop divide a step by the root of the gradient's own square, so a gradient that is zero up to "
    "rounding (a conv bias before a BatchNorm, a dead ReLU unit) takes a step of about lr in a direction set by the "
    "rounding, different in each framework; those entries (|gradient| within rung 3's tolerance of zero in both, yet not "
    "equal) are compared apart, reported here, and set equal again after each step (torch's values into Keras)")


def rounding_level(grads_t: dict, grads_k: dict, tolerance: float) -> dict:
    """{name: boolean mask} of the gradient entries within ``tolerance`` of zero in both frameworks and not equal
    (an entry trainable on one side only counts as a zero gradient on the other: the key bias Keras may freeze)."""
    masks = {}
    for name in set(grads_t) | set(grads_k):
        a = np.asarray(grads_t.get(name, np.zeros_like(grads_k.get(name))))
        b = np.asarray(grads_k.get(name, np.zeros_like(a)))
        mask = (np.abs(a) <= tolerance) & (np.abs(b) <= tolerance) & (a != b)
        if mask.any():
            masks[name] = mask
    return masks


def resync(s, masks: dict) -> float:
    """Copy torch's values of the masked entries into Keras, so that what they feed (a BatchNorm's moving mean)
    stays comparable; returns the largest difference they had."""
    figure = 0.0
    for p in s.pairs:
        ours, theirs = pairing.torch_canonical(p), pairing.keras_canonical(p)
        local = {k: masks[f"{p.torch_name}.{k}"] for k in ours if f"{p.torch_name}.{k}" in masks}
        if local:
            figure = max(figure, *(max_abs(ours[k][m], theirs[k][m]) for k, m in local.items()))
            pairing.set_keras(p, {**theirs, **{k: np.where(m, ours[k], theirs[k]) for k, m in local.items()}})
    return figure


def _split_state(weights: dict) -> tuple[dict, dict]:
    """(everything else, torch's known difference: the moving variances)."""
    part = KNOWN_DIFFERENCES["unbiased running variance"][1]
    inside = {k: v for k, v in weights.items() if k.rsplit(".", 1)[-1] == part}
    return {k: v for k, v in weights.items() if k not in inside}, inside


def compare(torch_model, keras_model, X, y=None, loss: str = "mse", optimizer: str = "sgd", lr: float = 0.01,
            options: dict | None = None, steps: int = 5, pairs=None, transfer: str | None = "torch",
            dtype: str | None = None) -> CompareResult:
    """The ladder for ``torch_model`` (an nn.Module) and ``keras_model`` (a keras.Model) on ``X`` (as torch takes
    it) and ``y`` (drawn, seeded, when None), with ``loss`` and ``optimizer`` (``options`` in Keras's names);
    ``transfer``: copy the weights "torch" → Keras (default), "keras" → torch, or None (as they are); ``dtype``
    None: float64 where both can be rebuilt in it."""
    s = Session(torch_model, keras_model, X, y, loss, pairs, transfer, dtype)
    try:
        return _ladder(s, optimizer, lr, options, steps)
    finally:
        s.close()


def _ladder(s: Session, optimizer: str, lr: float, options: dict | None, steps: int) -> CompareResult:
    tol = TOLERANCES[s.dtype]
    plan, said = _plan(optimizer, lr, options, s.dtype)
    rungs, known = [], {}

    def add(rung, value, detail="", name=None):
        limit, relative = tol[rung]
        passed = None if limit is None else bool(value <= limit)
        rungs.append(RungResult("compare", s.dtype, rung, name or RUNGS[rung], "torch↔keras", value, limit, relative,
                                passed, detail))

    def weights_rung(rung, name):
        (ours, var_t), (theirs, var_k) = _split_state(s.canonical("torch")), _split_state(s.canonical("keras"))
        add(rung, *worst(ours, theirs, max_abs), name=name)
        if var_t:
            value, where = worst(var_t, var_k, max_abs)
            known["unbiased running variance"] = (value, f"after {name}, at {where}: "
                                                  f"{KNOWN_DIFFERENCES['unbiased running variance'][2]}")

    measure = max_rel if tol[2][1] else max_abs
    for train in (False, True):
        out = s.keras_forward(train)
        add(1, max_abs(to_keras_layout(s.torch_forward(train), out.shape), out),
            name=f"forward ({'training' if train else 'inference'})")
        s.reset()
    loss_t, grads_t, dx_t = s.torch_loss_and_grads()
    loss_k, grads_k, _, dx_k = s.keras_loss_and_grads()
    add(2, measure(loss_t, loss_k))
    common = sorted(set(grads_t) & set(grads_k))
    grad_measure = max_rel if tol[3][1] else max_abs
    add(3, *worst({k: grads_t[k] for k in common}, {k: grads_k[k] for k in common}, grad_measure),
        name="gradients")
    if dx_t is not None and dx_k is not None:
        add(3, grad_measure(to_keras_layout(dx_t, dx_k.shape), dx_k), name="input gradient")
    s.reset()
    torch_opt, keras_opt = s.optimizers(plan)
    masks, apart = {}, []  # the rounding-level entries so far; their difference after each step, before the resync

    def step():
        loss_t, loss_k, g_t, g_k = s.step(torch_opt, keras_opt)
        if optimizer in PARITY_EPSILONS:
            scale = max((float(np.max(np.abs(g), initial=0.0)) for g in g_t.values()), default=0.0) \
                if tol[3][1] else 1.0
            for name, mask in rounding_level(g_t, g_k, tol[3][0] * scale).items():
                masks[name] = masks[name] | mask if name in masks else mask
            if masks:
                apart.append(resync(s, masks))
        return loss_t, loss_k

    lt, lk = step()
    weights_rung(4, "one step")
    losses_t, losses_k = [lt], [lk]
    for _ in range(steps - 1):
        lt, lk = step()
        losses_t.append(lt)
        losses_k.append(lk)
    if masks:
        count = sum(int(m.sum()) for m in masks.values())
        known["rounding-level gradients"] = (max(apart), f"{count} entries in {', '.join(sorted(masks))}, the largest "
                                                         f"difference after any step: {ROUNDING_LEVEL}")
    if steps > 1:
        add(5, max_abs(losses_t, losses_k), f"{steps} steps", name="trajectory losses")
        weights_rung(5, "trajectory weights")
    s.reset()
    result = CompareResult(s.dtype, rungs, s.pairs, known, [said], notes=s.notes)
    if not result.passed:
        result.first_divergence = first_divergence(s)
        s.reset()
    return result
