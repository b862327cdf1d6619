"""The scratch backend of the shared API (triptych.frameworks): NumPy only, canonical layout native."""
from __future__ import annotations

from scratch import kernels
from scratch.fast import accelerate
from triptych.checkpoints import load_npz, save_npz
from triptych.frameworks import Framework, Net
from triptych.registry import get_spec


class ScratchFramework(Framework):
    name = "scratch"

    def _build(self, model, config, seed, dtype):
        """The model file's network, from reference layers; with the fast kernels (the default,
        ``TRIPTYCH_SCRATCH_KERNELS``) its layers swapped for the tuned ones, on the same parameter arrays."""
        choice = kernels.selected()
        network = get_spec(model).module(self.name).build(config, seed, dtype)
        if choice == "fast":
            network = accelerate(network)
        return Net(model, config, dtype, self.name, network, {"seed": seed, "kernels": choice})

    def _get(self, net):
        """Parameters and state (``Network.variables``; deep_net's notebook network has parameters only)."""
        native = net.native
        return native.variables() if hasattr(native, "variables") else native.params()

    def _set(self, net, weights):
        for key, value in self._get(net).items():
            value[...] = weights[key]

    def _predict(self, net, X):
        return net.native.eval().forward(X)

    def _predict_training(self, net, X):
        return net.native.train().forward(X)

    def _loss_and_grads(self, net, X, y):
        loss, grads, dx = net.native.train().loss_and_grads(X, y)
        return loss, {k: v.copy() for k, v in grads.items()}, dx

    def _train(self, net, X, y, plan):
        return get_spec(net.model).module(self.name).train(net.native, X, y, plan)

    def _summary(self, net):
        return net.native.summary()

    def _save(self, net, path):
        save_npz(path, self._get(net), net.model, net.config)

    def _load(self, net, path):
        weights, meta = load_npz(path)
        if meta and meta.get("model") != net.model:
            raise ValueError(f"checkpoint {path!r} holds model {meta.get('model')!r}, not {net.model!r}")
        self.set_weights(net, weights)


FRAMEWORK = ScratchFramework()
