"""The ``triptych`` command line: train, summary, parity, convert, bench, report.

Bad input (unknown model or framework, wrong shapes, unreadable files, a missing
framework) prints one clear line and exits with status 2; a failed parity check or
report exits with 1.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from common.frameworks import FRAMEWORKS, FrameworkUnavailable, get_framework
from common.specs import MODELS, SPECS, get_spec


def _frameworks(choice: str) -> list[str]:
    return list(FRAMEWORKS) if choice == "all" else [choice]


def _parse_overrides(pairs: list[str]) -> dict:
    """``--set hidden=13,13 --set dropout=0.2`` → {"hidden": (13, 13), "dropout": 0.2}."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            parsed = json.loads(f"[{value}]")
            out[key] = tuple(parsed) if "," in value else parsed[0]
        except json.JSONDecodeError:
            out[key] = value
    return out


def _progress_printer(name: str, epochs: int):
    every = max(1, epochs // 10)

    def show(record: dict) -> None:
        if record["epoch"] % every == 0 or record["epoch"] in (1, epochs):
            extra = f"  eval loss {record['eval_loss']:.4f}" if "eval_loss" in record else ""
            print(f"  [{name}] epoch {record['epoch']:>4}/{epochs}  loss {record['loss']:.4f}{extra}", flush=True)
    return show


# ---------------------------------------------------------------- train


def cmd_train(args) -> int:
    from common.experiments import load_experiment, metrics

    exp = load_experiment(args.model, args.data, seed=0)
    overrides = {**exp.overrides, **_parse_overrides(args.set)}
    defaults = get_spec(args.model).training
    epochs = args.epochs or (defaults.get("full_epochs") if args.data and args.model in ("mnist_cnn", "lstm")
                             and args.data != "sample" else None) or defaults["epochs"]
    print(f"{args.model}: {get_spec(args.model).description}")
    print(f"data: {exp.source}")
    print(f"train {exp.X_train.shape} / test {exp.X_test.shape}; epochs {epochs}")
    if args.model == "house_mlp" and not args.set:
        from common.house import format_house_table, house_price_table
        rows = house_price_table(_frameworks(args.framework), epochs=epochs, lr=args.lr, seed=args.seed,
                                 progress=True)
        print(format_house_table(rows))
        return 0
    start_weights = None
    for name in _frameworks(args.framework):
        fw = get_framework(name)
        net = fw.build(args.model, seed=args.seed if args.seed is not None else defaults["seed"], dtype=args.dtype,
                       **overrides)
        if start_weights is None:
            start_weights = fw.get_weights(net)
        else:  # identical initial weights in every framework
            fw.set_weights(net, start_weights)
        kwargs = dict(epochs=epochs, lr=args.lr, seed=args.seed, optimizer=args.optimizer,
                      progress=_progress_printer(name, epochs))
        if args.batch_size is not None:
            kwargs["batch_size"] = None if args.batch_size == 0 else args.batch_size
        if defaults.get("eval_every"):
            kwargs.update(X_val=exp.X_test, y_val=exp.y_test)
        history = fw.train(net, exp.X_train, exp.y_train, **{k: v for k, v in kwargs.items() if v is not None
                                                              or k == "batch_size"})
        result = metrics(args.model, fw.predict(net, exp.X_test), exp.y_test)
        steps = len(history["loss"])
        shown = "  ".join(f"{k} {v:.4f}" for k, v in result.items())
        print(f"[{name}] {steps} steps in {history['seconds']:.1f} s "
              f"({1000 * history['seconds'] / steps:.2f} ms/step) — test {shown}")
        if args.model == "linreg":
            w = fw.get_weights(net)
            print(f"[{name}] w = {np.round(w['linear.W'].ravel(), 4).tolist()}  b = {w['linear.b'][0]:.4f}")
        if args.model == "xor":
            print(f"[{name}] outputs for 00 01 10 11: {np.round(fw.predict(net, exp.X_test).ravel(), 3).tolist()}")
        if args.save:
            path = args.save.replace("{framework}", name)
            fw.save(net, path)
            print(f"[{name}] saved {path}")
    return 0


# ---------------------------------------------------------------- summary


def cmd_summary(args) -> int:
    from common.canonical import table_markdown
    from common.specs import resolve

    overrides = _parse_overrides(args.set)
    for name in _frameworks(args.framework):
        fw = get_framework(name)
        net = fw.build(args.model, **overrides)
        print(f"{name}: {args.model}")
        for layer, kind, shape, count in fw.summary(net):
            print(f"  {layer:<14} {kind:<14} {str(shape):<16} {count:>8,}")
        print(f"  {'total':<46} {fw.parameter_count(net):>8,}")
    print("\ncanonical weights:\n" + table_markdown(args.model, resolve(args.model, overrides)))
    return 0


# ---------------------------------------------------------------- parity


def cmd_parity(args) -> int:
    from common.parity import format_table, run_ladder

    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    for model in args.models:
        get_spec(model)
    results = []
    for model in args.models or MODELS:
        for dtype in dtypes:
            print(f"parity: {model} {dtype} …", file=sys.stderr, flush=True)
            results += run_ladder(model, dtype, frameworks=args.frameworks or None)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=1))
    else:
        print(format_table(results))
    failed = [r for r in results if r.passed is False]
    if failed:
        print(f"{len(failed)} parity check(s) FAILED", file=sys.stderr)
        return 1
    print(f"all {sum(r.passed is True for r in results)} checks passed", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- convert


def checkpoint_framework(path: str) -> str:
    """Framework of a native checkpoint, from its name: .pt/.pth torch, .weights.h5 Keras, .npz canonical."""
    if path.endswith(".weights.h5"):
        return "keras"
    if path.endswith((".pt", ".pth")):
        return "torch"
    if path.endswith(".npz"):
        return "scratch"
    raise ValueError(f"cannot tell the format of {path!r}: expected .pt/.pth (torch state_dict), "
                     f".weights.h5 (Keras) or .npz (scratch/canonical)")


def cmd_convert(args) -> int:
    from common.checkpoints import load_npz

    src_fw, dst_fw = checkpoint_framework(args.src), checkpoint_framework(args.dst)
    model, overrides = args.model, _parse_overrides(args.set)
    if src_fw == "scratch" and model is None:
        _, meta = load_npz(args.src)
        if meta:
            model, overrides = meta["model"], {**meta["config"], **overrides}
    if model is None:
        raise ValueError(f"say which model {args.src!r} holds with --model ({', '.join(MODELS)})")
    get_spec(model)
    overrides = {k: v for k, v in overrides.items() if k in SPECS[model].arch}
    source = get_framework(src_fw)
    net = source.build(model, **overrides)
    source.load(net, args.src)
    target = get_framework(dst_fw)
    out = target.build(model, **overrides)
    target.set_weights(out, source.get_weights(net))
    target.save(out, args.dst)
    print(f"{model}: {args.src} ({src_fw}) → {args.dst} ({dst_fw})")
    return 0


# ---------------------------------------------------------------- bench, report


def cmd_bench(args) -> int:
    from common.bench import format_bench, run_bench

    for model in args.models:
        get_spec(model)
    rows = run_bench(args.models or ["mnist_cnn", "lstm"], frameworks=_frameworks(args.framework),
                     steps=args.steps)
    print(format_bench(rows))
    return 0


def cmd_report(args) -> int:
    from reports.generate import main_report

    return main_report(args.out, quick=args.quick, models=args.models or list(MODELS), data=args.data,
                       progress=True)


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triptych", description="Five classic neural networks written three "
                                     "times (NumPy from scratch, PyTorch, Keras 3) and proven equal.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    model_arg = dict(choices=MODELS, metavar="MODEL", help=f"one of: {', '.join(MODELS)}")
    fw_arg = dict(choices=(*FRAMEWORKS, "all"), default="all", help="scratch | torch | keras | all (default)")

    p = sub.add_parser("train", help="train a model in one or all frameworks and print its test metrics")
    p.add_argument("model", **model_arg)
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int, help="0 means full batch")
    p.add_argument("--optimizer", choices=("sgd", "adam"))
    p.add_argument("--seed", type=int)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--data", help="linreg: a CSV file (last column = target); mnist_cnn/lstm: sample | full | DIR")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a spec option, e.g. hidden=13")
    p.add_argument("--save", metavar="PATH", help="save each trained model; {framework} in PATH is replaced")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("summary", help="layers, output shapes and parameter counts in each framework")
    p.add_argument("model", **model_arg)
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("parity", help="run the parity ladder and print max differences per rung and pair")
    p.add_argument("models", nargs="*", metavar="MODEL", help=f"any of: {', '.join(MODELS)} (default: all)")
    p.add_argument("--dtype", choices=("float64", "float32", "both"), default="float64")
    p.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_parity)

    p = sub.add_parser("convert", help="convert a checkpoint: .pt (torch) ↔ .weights.h5 (Keras) ↔ .npz (canonical)")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--model", choices=MODELS, help="the model the checkpoint holds (read from .npz when saved there)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="spec overrides the checkpoint was built with")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("bench", help="ms per training step per framework, ratios and GFLOP/s (float32)")
    p.add_argument("models", nargs="*", metavar="MODEL", help=f"any of: {', '.join(MODELS)} (default: all)")
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--steps", type=int, default=10)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("report", help="write the comparison report (HTML, Markdown, CSV/JSON, plots)")
    p.add_argument("--out", default="triptych-report")
    p.add_argument("--quick", action="store_true", help="few steps on small data (about a minute)")
    p.add_argument("--models", nargs="+", choices=MODELS)
    p.add_argument("--data", default="sample", help="MNIST: sample (default) | full | DIR")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FrameworkUnavailable) as exc:
        print(f"triptych: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
