"""The tuned position embedding: :class:`scratch.attention.PositionEmbedding` with its table gradient as one sum.

The positions looked up are 0…T−1 for every sample, so the scatter-add dE[p] = Σ_{(n,t): t = p} dy_{n,t} of the
reference is dE[:T] = Σ_n dy_n (one reduction over the batch; ``np.add.at``'s scatter took about half of a
transformer training step at the bench's shapes), and zero beyond T.
"""
from __future__ import annotations

import numpy as np

from scratch import attention


class PositionEmbedding(attention.PositionEmbedding):
    def _param_grads(self, output_grad):
        dE = np.zeros_like(self.params["E"])
        dE[:output_grad.shape[1]] = output_grad.sum(axis=0)
        return {"E": dE}
