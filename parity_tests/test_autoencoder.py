"""autoencoder's reconstruction task: its targets are the images (checked as such), its metrics the pixels' MSE and
BCE, and a report page draws the test digits beside each framework's reconstructions."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.experiments import metrics
from triptych.frameworks import get_framework


def test_targets_must_be_the_images_in_0_1():
    fw = get_framework("scratch")
    net = fw.build("autoencoder", image_size=(8, 8), filters=(2, 3), code_size=4)
    X = np.random.default_rng(0).random((3, 8, 8))
    loss, _ = fw.loss_and_grads(net, X, X)
    assert loss == pytest.approx(float(np.mean((fw.predict(net, X) - X) ** 2)), rel=1e-12)  # no dropout/BN: same
    with pytest.raises(ValueError, match=r"targets y have shape \(3, 1\), expected \(3, 8, 8\)"):
        fw.loss_and_grads(net, X, X[:, :1, 0])
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        fw.loss_and_grads(net, X, X + 1)


def test_metrics_are_the_pixels_mse_and_bce():
    y = np.array([[[0.0, 1.0], [1.0, 0.0]]])
    p = np.array([[[0.1, 0.8], [0.9, 0.3]]])
    found = metrics("autoencoder", p, y)
    assert found["loss"] == found["mse"] == pytest.approx((0.01 + 0.04 + 0.01 + 0.09) / 4)
    assert found["bce"] == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.9, 0.7])))


def test_report_draws_the_originals_beside_each_frameworks_reconstructions(tmp_path):
    from reports.plots import write_plots
    from reports.run import FrameworkRun, ModelReport

    rng = np.random.default_rng(1)
    originals = rng.random((4, 8, 8))
    report = ModelReport("autoencoder", {"dtype": "float32"}, originals=originals.tolist())
    for name in ("scratch", "torch", "keras"):
        report.runs[name] = FrameworkRun(name, 10, [0.3, 0.2], {"loss": 0.2}, None, 1.0, 8, 0.1, 4,
                                         reconstructions=rng.random((4, 8, 8)).tolist())
    paths = write_plots(report, tmp_path)
    picture = tmp_path / "autoencoder_reconstructions.png"
    assert picture in paths and picture.stat().st_size > 1000
    import matplotlib.image

    height, width = matplotlib.image.imread(picture).shape[:2]
    assert (height, width) == (4 * 120, 4 * 110)  # 4 rows (original + 3 frameworks) of 4 digits, 1.2 × 1.1 in at 100 dpi
