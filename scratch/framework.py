"""The scratch backend of the shared API (triptych.frameworks): NumPy only, canonical layout native."""
from __future__ import annotations

from triptych.checkpoints import load_npz, save_npz
from triptych.frameworks import Framework, Net
from triptych.registry import get_spec


class ScratchFramework(Framework):
    name = "scratch"

    def _build(self, model, config, seed, dtype):
        module = get_spec(model).module(self.name)
        return Net(model, config, dtype, self.name, module.build(config, seed, dtype), {"seed": seed})

    def _get(self, net):
        return net.native.params()

    def _set(self, net, weights):
        for key, value in net.native.params().items():
            value[...] = weights[key]

    def _predict(self, net, X):
        return net.native.eval().forward(X)

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
        weights, _ = load_npz(path)
        self.set_weights(net, weights)


FRAMEWORK = ScratchFramework()
