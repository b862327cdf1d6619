"""The PyTorch backend of the shared API (triptych.frameworks).

Each model file ``torch_impl/<model>.py`` provides ``build(config) -> nn.Module``,
``to_canonical(tensors) -> dict`` (named parameters or their gradients → canonical
arrays), ``from_canonical(weights) -> state_dict``, ``loss()``, ``optimizer(model, plan)`` and
``train(model, X, y, plan)``; optionally ``param_groups(model)`` (torch parameter groups, e.g. weight
decay on the weights only).
The loss and gradients reported are those of the objective the optimizer minimises: the loss
plus Σ wd/2·‖p‖² for each group's ``weight_decay`` wd, whose gradient wd·p torch adds in ``step``.

torch's global set-up (device, TF32) is :func:`torch_impl.setup.configure`; ``build`` makes sure it ran.
"""
from __future__ import annotations

import numpy as np
import torch

from triptych.frameworks import Framework, Net
from triptych.registry import get_spec
from triptych.validate import expected_input_shape
from torch_impl.setup import configure, device
from torch_impl.training import as_tensors, l2_penalty, loss_of, param_groups

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _module(model: str):
    return get_spec(model).module(FRAMEWORK.name)


class TorchFramework(Framework):
    name = "torch"

    def _build(self, model, config, seed, dtype):
        configure()  # what get_framework does; here too for a caller that imported this module directly
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            native = _module(model).build(config).to(device(), _DTYPES[dtype])
        return Net(model, config, dtype, self.name, native)

    def _get(self, net):
        """The parameters and the floating-point buffers (BatchNorm's running statistics: canonical state)."""
        tensors = {**dict(net.native.named_parameters()),
                   **{k: v for k, v in net.native.named_buffers() if v.is_floating_point()}}
        with torch.no_grad():
            return {k: v.cpu().numpy() for k, v in _module(net.model).to_canonical(tensors).items()}

    def _set(self, net, weights):
        """Strict: every parameter and floating-point buffer from ``weights``; integer buffers (BatchNorm's
        num_batches_tracked, not canonical) keep their values."""
        state = _module(net.model).from_canonical({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()})
        counters = {k: v for k, v in net.native.state_dict().items() if not v.is_floating_point()}
        net.native.load_state_dict({**counters, **state}, strict=True)

    def _predict(self, net, X):
        net.native.eval()
        with torch.no_grad():
            return net.native(torch.from_numpy(X).to(device())).cpu().numpy()

    def _predict_training(self, net, X):
        net.native.train()
        with torch.no_grad():
            return net.native(torch.from_numpy(X).to(device())).cpu().numpy()

    def _loss_and_grads(self, net, X, y):
        module, model = _module(net.model), net.native
        model.train()
        model.zero_grad()
        X_t, y_t = as_tensors(X, y)
        X_t = X_t.clone().requires_grad_(True)
        loss = loss_of(module)(model(X_t), y_t)
        loss.backward()
        grads = {name: (p.grad if p.grad is not None else torch.zeros_like(p))
                 for name, p in model.named_parameters()}
        groups = param_groups(module, model)
        with torch.no_grad():
            for group in (g for g in groups if g.get("weight_decay")):  # torch's step uses g + wd·p
                for p in group["params"]:
                    p.grad += group["weight_decay"] * p
            canonical = {k: v.cpu().numpy().copy() for k, v in module.to_canonical(grads).items()}
        return loss.item() + l2_penalty(groups), canonical, X_t.grad.cpu().numpy()

    def _train(self, net, X, y, plan):
        """Dropout masks come from torch's global generator: seeded with ``plan.seed`` inside a fork,
        so a run is reproducible and the caller's random state is left as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(plan.seed)
            return _module(net.model).train(net.native, X, y, plan)

    def _summary(self, net):
        """One row per leaf module, and per module that holds parameters of its own (nn.MultiheadAttention's packed
        in_proj, with the out_proj it uses without calling it), in call order, with its output shape per sample.
        A parameter with a ``held_at_zero`` count (entries held at zero through a gradient mask) counts the rest."""
        shape = tuple(7 if s is None else s for s in expected_input_shape(net.model, net.config))
        leaves = [(n, m) for n, m in net.native.named_modules()
                  if n and (not list(m.children()) or list(m.parameters(recurse=False)))]
        rows = []

        def record(name, module, _inputs, output):
            out = output[0] if isinstance(output, tuple) else output
            count = sum(p.numel() - getattr(p, "held_at_zero", 0) for p in module.parameters() if p.requires_grad)
            rows.append((name, type(module).__name__, tuple(out.shape[1:]), count))

        hooks = [m.register_forward_hook(lambda m, i, o, n=n: record(n, m, i, o)) for n, m in leaves]
        net.native.eval()
        try:
            with torch.no_grad():
                net.native(torch.zeros((1, *shape), dtype=_DTYPES[net.dtype], device=device()))
        finally:
            for hook in hooks:
                hook.remove()
        return rows

    def _save(self, net, path):
        torch.save(net.native.state_dict(), path)

    def _load(self, net, path):
        try:
            state = torch.load(path, weights_only=True, map_location="cpu")
        except FileNotFoundError:
            raise ValueError(f"checkpoint {path!r} does not exist") from None
        except Exception as exc:  # torch raises many kinds for a corrupt file
            raise ValueError(f"checkpoint {path!r} is not a readable torch state_dict "
                             f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ValueError(f"checkpoint {path!r} does not hold a state_dict of tensors")
        expected = net.native.state_dict()
        if set(state) != set(expected):
            raise ValueError(f"checkpoint {path!r}: state_dict keys {sorted(state)} do not match "
                             f"{net.model}'s {sorted(expected)}")
        loaded = {}
        for key, value in state.items():
            if tuple(value.shape) != tuple(expected[key].shape):
                raise ValueError(f"checkpoint {path!r}: {key!r} has shape {tuple(value.shape)}, "
                                 f"expected {tuple(expected[key].shape)}")
            if not expected[key].is_floating_point():  # a counter buffer (BatchNorm's num_batches_tracked)
                if value.is_floating_point():
                    raise ValueError(f"checkpoint {path!r}: {key!r} has dtype {value.dtype}; expected "
                                     f"{expected[key].dtype}")
                loaded[key] = value.to(expected[key].dtype)
                continue
            if not value.is_floating_point():  # an integer tensor would load as whole numbers (mostly 0)
                raise ValueError(f"checkpoint {path!r}: {key!r} has dtype {value.dtype}; expected floating-point weights")
            loaded[key] = value.to(expected[key].dtype)
            if not torch.isfinite(loaded[key]).all():
                raise ValueError(f"checkpoint {path!r}: {key!r} holds NaN/inf or values beyond {net.dtype}'s range")
        net.native.load_state_dict(loaded)


FRAMEWORK = TorchFramework()
