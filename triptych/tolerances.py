"""The parity ladder's rungs and tolerances (DESIGN.md), in one place.

``TOLERANCES[dtype][rung] = (tolerance, relative)``; a tolerance of None means the
figure is reported but cannot fail (float32 trajectories drift by design).
"""
from __future__ import annotations

RUNGS = {1: "forward", 2: "loss", 3: "gradients", 4: "one step", 5: "trajectory", 6: "finite differences"}
ALL_RUNGS = tuple(RUNGS)  # (1, …, 6): every rung, in order

TOLERANCES = {
    "float64": {1: (1e-12, False), 2: (1e-12, False), 3: (1e-10, False), 4: (1e-12, False), 5: (1e-9, False),
                6: (1e-6, True)},
    "float32": {1: (1e-5, False), 2: (1e-6, True), 3: (1e-4, True), 4: (1e-6, False), 5: (None, False)},
}

MIN_TRAJECTORY_STEPS = 50
# Keras adds Adam's epsilon outside the bias-corrected root (ε̂: lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)), torch
# (and scratch) inside (lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)); no single constant makes the two formulas equal, so
# parity runs use a tiny epsilon in all three.  It must be tiny beside the smallest gradient: a saturated sigmoid's
# σ' ≈ 1e-31 made 1e-30 a 1.6e-4 difference after three steps (found by parity_tests/test_random_families.py).
# Hence 1e-100 in float64.
PARITY_ADAM_EPSILON = 1e-100
# RMSprop likewise: Keras √(v + ε), torch (and scratch) √v + ε; a tiny epsilon in all three for parity.
# Inside the root ε counts against v itself (relative ε / 2v), and v is as small as the gradient squared:
# a gradient of 1e-13 (a relu dead for most of a batch) gives v ~ 1e-26, where 1e-30 still moves the
# step by 1e-4 relative (found by parity_tests/test_random_families.py).  Hence 1e-100.
PARITY_RMSPROP_EPSILON = 1e-100
PARITY_EPSILONS = {"adam": PARITY_ADAM_EPSILON, "rmsprop": PARITY_RMSPROP_EPSILON}  # by optimizer, float64
# In float32 1e-100 is 0, and a zero gradient's 0 / 0 a NaN: there parity uses 1e-30 (a float32 normal number).
PARITY_EPSILON_FLOAT32 = 1e-30


def parity_epsilon(optimizer: str, dtype: str) -> float:
    """The epsilon parity runs give ``optimizer`` (one of :data:`PARITY_EPSILONS`) in ``dtype``."""
    return PARITY_EPSILONS[optimizer] if dtype == "float64" else PARITY_EPSILON_FLOAT32
FD_DELTA = 1e-6  # central differences (f(a + Δ) − f(a − Δ)) / 2Δ, float64
# Differences no setting removes: {name: (framework, last part of the canonical state entries it touches, why)}.
# The ladder compares those entries apart for every pair with that framework and reports the figure under the name
# (never a pass or a fail, never dropped); docs/conventions.md has the row and parity_tests/test_conventions_batchnorm.py
# the test.
KNOWN_DIFFERENCES = {
    "unbiased running variance": (
        "torch", "moving_variance",
        "torch's BatchNorm updates its running variance with the unbiased batch variance (÷ n − 1), scratch and Keras "
        "(the canonical convention) with the biased one (÷ n); both normalise with the biased one, so outputs, losses, "
        "gradients and trained weights still agree"),
}
