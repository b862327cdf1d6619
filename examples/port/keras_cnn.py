"""The Keras port of torch_cnn.py, channels last: the same layers, with the settings that make them equal.

- BatchNorm: Keras ``momentum=0.9`` is torch's ``momentum=0.1`` (Keras's default 0.99 is another average), and
  ``epsilon=1e-5`` is torch's eps (Keras's default is 1e-3).
- The stride-2 conv: torch ``padding=1`` pads one pixel on every side; Keras ``padding="same"`` at stride 2 pads
  the odd pixel after only (bottom/right), so the port pads explicitly with ZeroPadding2D(1) and uses "valid".

``build_planted()`` is the port with the classic mistake, ``padding="same"`` at stride 2; ``triptych compare``
names that conv as the first divergence.
"""
from __future__ import annotations

import keras

from torch_cnn import CHANNELS, CLASSES, SIZE


def build_port(same_padding: bool = False, momentum: float = 0.9) -> keras.Model:
    """The port; ``same_padding=True`` or ``momentum=0.99`` (Keras's default) plant a mismatch."""
    L = keras.layers
    stride2 = ([L.Conv2D(16, 3, strides=2, padding="same")] if same_padding
               else [L.ZeroPadding2D(1), L.Conv2D(16, 3, strides=2, padding="valid")])
    return keras.Sequential([
        keras.Input((SIZE, SIZE, CHANNELS)),
        L.Conv2D(8, 3, padding="same"), L.BatchNormalization(momentum=momentum, epsilon=1e-5), L.ReLU(),
        *stride2, L.BatchNormalization(momentum=momentum, epsilon=1e-5), L.ReLU(),
        L.Flatten(), L.Dense(CLASSES)])


def build() -> keras.Model:
    return build_port()


def build_planted() -> keras.Model:
    return build_port(same_padding=True)
