"""The house-price study (Weidman, "Deep Learning from Scratch", ch. 4): a linear model, one and two
hidden layers on Boston housing, in every framework from identical weights; test MAE and RMSE."""
from __future__ import annotations

import sys

from common.data import boston_data
from common.experiments import metrics
from common.frameworks import get_framework
from common.specs import get_spec

VARIANTS = (  # (label, model, overrides)
    ("linear (linreg, 13 features)", "linreg", {"in_features": 13}),
    ("1 hidden layer (13)", "house_mlp", {"hidden": (13,)}),
    ("2 hidden layers (13, 13)", "house_mlp", {}),
)


def house_price_table(frameworks, epochs: int | None = None, lr: float | None = None, seed: int | None = None,
                      progress: bool = False) -> list[dict]:
    """Rows {variant, framework, mae, rmse, params, best_epoch} for every variant × framework.

    Every variant trains like house_mlp's spec (SGD 0.01, batch 32, 50 epochs, evaluation on the
    test split every 10 epochs keeping the best weights); the three frameworks start from the
    weights scratch draws with the seed.
    """
    X_train, X_test, y_train, y_test = boston_data()
    train = dict(get_spec("house_mlp").training)
    seed = train["seed"] if seed is None else seed
    kwargs = dict(epochs=epochs or train["epochs"], batch_size=train["batch_size"], lr=lr or train["lr"],
                  optimizer=train["optimizer"], seed=seed, eval_every=train["eval_every"], keep_best=True,
                  X_val=X_test, y_val=y_test)
    rows = []
    for label, model, overrides in VARIANTS:
        start = get_framework("scratch").get_weights(get_framework("scratch").build(model, seed=seed, **overrides))
        for name in frameworks:
            if progress:
                print(f"  [{name}] {label} …", file=sys.stderr, flush=True)
            fw = get_framework(name)
            net = fw.build(model, seed=seed, **overrides)
            fw.set_weights(net, start)
            history = fw.train(net, X_train, y_train, **kwargs)
            result = metrics(model, fw.predict(net, X_test), y_test)
            rows.append({"variant": label, "framework": name, "mae": result["mae"], "rmse": result["rmse"],
                         "params": fw.parameter_count(net), "best_epoch": history["best_epoch"]})
    return rows


def format_house_table(rows: list[dict]) -> str:
    lines = [f"{'variant':<30} {'framework':<9} {'params':>6} {'best epoch':>10} {'test MAE':>9} {'test RMSE':>9}"]
    for r in rows:
        lines.append(f"{r['variant']:<30} {r['framework']:<9} {r['params']:>6} {r['best_epoch']:>10} "
                     f"{r['mae']:>9.3f} {r['rmse']:>9.3f}")
    return "\n".join(lines)
