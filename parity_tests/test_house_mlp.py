"""House-price MLP on Boston housing: the split, the variants' MAE/RMSE, best-weight keeping."""
from __future__ import annotations

import numpy as np
import pytest

from triptych.data import boston_data
from triptych.studies.house import house_price_table


def test_split_is_sklearns_and_standardised_on_training_rows():
    from mlxtend.data import boston_housing_data
    from sklearn.model_selection import train_test_split

    X, y = boston_housing_data()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=80718)
    a, b, c, d = boston_data()
    assert a.shape == (354, 13) and b.shape == (152, 13) and c.shape == (354, 1)
    assert np.array_equal(c.ravel(), y_tr) and np.array_equal(d.ravel(), y_te)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    assert np.allclose(a, (X_tr - mean) / std) and np.allclose(b, (X_te - mean) / std)
    assert np.allclose(a.mean(axis=0), 0) and not np.allclose(b.mean(axis=0), 0, atol=1e-3)


@pytest.mark.parametrize("test_size", [0.0, 1.0, -0.1])
def test_empty_split_is_refused(test_size):
    with pytest.raises(ValueError, match="test_size"):
        boston_data(test_size=test_size)


@pytest.fixture(scope="module")
def table():
    return house_price_table(["scratch", "torch", "keras"])


def test_networks_beat_the_linear_model_in_every_framework(table):
    for fw in ("scratch", "torch", "keras"):
        rmse = {r["variant"]: r["rmse"] for r in table if r["framework"] == fw}
        linear = rmse["linear (linreg, 13 features)"]
        assert rmse["1 hidden layer (13)"] < linear and rmse["2 hidden layers (13, 13)"] < linear, (fw, rmse)


def test_every_framework_keeps_the_same_best_weights(table):
    """Same best evaluation epoch and the same metrics (float64) in all three."""
    for variant in {r["variant"] for r in table}:
        rows = [r for r in table if r["variant"] == variant]
        assert len({r["best_epoch"] for r in rows}) == 1, rows
        assert max(r["rmse"] for r in rows) - min(r["rmse"] for r in rows) < 1e-9, rows
        assert len({r["params"] for r in rows}) == 1


def test_wrong_feature_count(fw):
    net = fw.build("house_mlp")
    X_train, _, y_train, _ = boston_data()
    with pytest.raises(ValueError, match=r"house_mlp: input X has shape \(354, 12\), expected \(N, 13\)"):
        fw.train(net, X_train[:, :12], y_train, epochs=1)


def test_training_with_dropout_is_reproducible(fw):
    """Same seed, same run: dropout masks are seeded in every framework (torch's inside a forked generator)."""
    X, _, y, _ = boston_data()
    runs = []
    for _ in range(2):
        net = fw.build("house_mlp", seed=3, dropout=0.3)
        runs.append(fw.train(net, X, y, epochs=2, seed=5)["loss"])
    assert runs[0] == runs[1]
