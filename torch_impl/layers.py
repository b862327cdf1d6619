"""torch layers that say TensorFlow's 'same' padding in torch: a strided convolution and a transposed one."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from triptych.canonical import same_padding


class SameConv2d(nn.Conv2d):
    """nn.Conv2d after F.pad by TensorFlow's 'same' rule: (top, bottom) = same_padding(H, k, s), the odd pixel after;
    output ⌈H / s⌉ × ⌈W / s⌉.  (nn.Conv2d(padding="same") refuses stride > 1, and a symmetric padding=1 puts the odd
    pixel of a stride-2 3×3 convolution on an even side before instead of after.)"""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int = 1, bias: bool = False):
        super().__init__(c_in, c_out, kernel_size, stride=stride, padding=0, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (s, _) = self.kernel_size, self.stride
        top, bottom = same_padding(x.shape[2], kh, s)
        left, right = same_padding(x.shape[3], kw, s)
        return super().forward(F.pad(x, (left, right, top, bottom)))


class SameConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d(padding=0) and then the crop Keras's padding="same" makes: the full (H − 1)·s + k rows cut
    to s·H, top = same_padding(s·H, k, s)[0] rows off the top and the rest off the bottom.  torch's padding=1,
    output_padding=1 gives the same size but crops one row off the top where Keras crops none (3×3, stride 2): the
    image one pixel shifted."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int = 2):
        super().__init__(c_in, c_out, kernel_size, stride=stride, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        (kh, kw), (s, _) = self.kernel_size, self.stride
        h, w = s * x.shape[2], s * x.shape[3]
        top, left = same_padding(h, kh, s)[0], same_padding(w, kw, s)[0]
        return super().forward(x)[:, :, top:top + h, left:left + w]
