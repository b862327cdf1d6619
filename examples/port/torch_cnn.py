"""A user's own small CNN in PyTorch, written outside triptych: conv → BatchNorm → ReLU → a stride-2 conv that
halves the image → BatchNorm → ReLU → flatten → dense.  Its Keras port is keras_cnn.py; prove the two equal with

    triptych compare examples/port/torch_cnn.py:build examples/port/keras_cnn.py:build
"""
from __future__ import annotations

from torch import nn

CHANNELS, SIZE, CLASSES = 3, 8, 5


class SmallCNN(nn.Module):
    """x (N, 3, 8, 8) → (N, 5) logits."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(CHANNELS, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU())  # 8×8 → 4×4
        self.head = nn.Linear(16 * (SIZE // 2) ** 2, CLASSES)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def build() -> SmallCNN:
    return SmallCNN()
