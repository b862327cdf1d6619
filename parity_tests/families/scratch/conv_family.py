"""conv_family from scratch (NumPy): (H, W, C) → [Conv2D → max-pool] × k → flatten (H, W, C) → Dense,
softmax cross-entropy.  Images NHWC, as in Keras.

Sections, as in torch_impl/conv_family.py and keras_impl/conv_family.py.
"""
from __future__ import annotations

import numpy as np

from parity_tests.families.conv_family import feature_maps
from scratch import trainer
from scratch.conv import Conv2DLayer, FlattenLayer, MaxPool2DLayer
from scratch.init import glorot_uniform
from scratch.layers import Dense
from scratch.losses import SoftmaxCrossEntropy
from scratch.network import Network
from scratch.optimizers import make_optimizer

# ---- data: random images (N, H, W, C) and labels (N,) (parity_tests.families.synthetic_source)


# ---- model: per block Conv2DLayer (stride, TensorFlow's 'same' padding) then, if it pools, a MaxPool2DLayer;
# then flatten and a dense classifier.  Glorot-uniform kernels (fans kh·kw·in, kh·kw·out), zero biases
def build(config: dict, seed: int, dtype: str) -> Network:
    rng = np.random.default_rng(seed)
    layers, channels = [], config["channels"]
    for i, conv in enumerate(config["convs"], start=1):
        (kh, kw), f = conv.kernel, conv.filters
        kernel = glorot_uniform(rng, (kh, kw, channels, f), kh * kw * channels, kh * kw * f, dtype)
        layers.append(Conv2DLayer(f"conv{i}", kernel, np.zeros(f, dtype), activation=conv.activation,
                                  stride=conv.stride, padding=conv.padding))
        if conv.pool > 1:
            layers.append(MaxPool2DLayer(f"pool{i}", conv.pool))
        channels = f
    h, w = feature_maps(config)[-1]
    n_in, n_out = h * w * channels, config["num_classes"]
    layers += [FlattenLayer("flatten"),
               Dense("output", W=glorot_uniform(rng, (n_in, n_out), n_in, n_out, dtype), b=np.zeros(n_out, dtype))]
    # ---- loss: softmax cross-entropy on the logits
    return Network(layers, SoftmaxCrossEntropy(), input_shape=(*config["image_size"], config["channels"]))


# ---- optimizer: plan.optimizer with plan.options (scratch/optimizers.py)
# ---- training: the shared trainer over the shared batches
def train(network: Network, X: np.ndarray, y: np.ndarray, plan) -> dict:
    return trainer.fit(network, make_optimizer(plan), X, y, plan)

# ---- conversion: none; the scratch parameters are the canonical layout (conv{i}.W (kh, kw, in, out), …)
