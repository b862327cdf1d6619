"""The ``triptych`` command line: train, summary, parity, convert, bench, study, and the commands other
packages add through the ``triptych.commands`` entry points (the report's ``report``, the porting toolkit's
``compare``: triptych.commands).

Bad input (unknown model or framework, a bad option, wrong shapes, unreadable files, a destination
that cannot be written, a missing framework) and a training run whose loss turns NaN/inf print one
clear line and exit with status 2; a failed parity check or report exits with 1; Ctrl-C prints one
line and exits with 130.  Destinations are checked before any work, and what is written replaces
the previous files only when complete.
"""
from __future__ import annotations

import argparse
import json
import sys

from triptych.backends import KERAS_BACKENDS, use_keras_backend
from triptych.checkpoints import EXTENSIONS, check_checkpoint_path, checkpoint_framework
from triptych.commands import installed_commands, positive_int
from triptych.files import atomic_paths, file_locks
from triptych.frameworks import FRAMEWORKS, OPTIMIZER_OPTIONS, FrameworkUnavailable, get_framework
from triptych.registry import MODELS, STUDIES, StudyResult, get_spec, get_study, load_plugin
from triptych.settings import KERNEL_SETS, SCRATCH_KERNELS, VERBOSE, set_kernel_set, set_verbose
from triptych.validate import DTYPES


def _frameworks(choice: str) -> list[str]:
    return list(FRAMEWORKS) if choice == "all" else [choice]


class _Once(argparse.Action):
    """Store the option's value(s), refusing the option a second time (argparse would let the last one win
    silently): ``--keras-backend jax --keras-backend torch`` is an error, not torch."""

    def __call__(self, parser, namespace, values, option_string=None):
        seen = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in seen:
            parser.error(f"{option_string} given twice; give it once (with several values where it takes them)")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


LIST_OPTIONS_ALLOWING_REPEATS = {"plugin", "set"}  # a name twice in any other list is an error


def _refuse_duplicates(args: argparse.Namespace, argv: list[str]) -> None:
    """A name given twice in a list argument (``parity xor xor``, ``report --models xor xor``): a
    ValueError naming it, never a run that counts it twice."""
    for dest, values in vars(args).items():
        if dest in LIST_OPTIONS_ALLOWING_REPEATS or not isinstance(values, list):
            continue
        twice = sorted({v for v in values if values.count(v) > 1}, key=str)
        if twice:
            option = f"--{dest.replace('_', '-')}"
            shown = option if any(a == option or a.startswith(f"{option}=") for a in argv) else dest
            raise ValueError(f"{args.command}: {', '.join(map(str, twice))} given twice in {shown}; "
                             f"name each once")


def _threads(text: str) -> int:
    """``--threads N``: 1 … this machine's CPU count (more would be capped by the libraries, and recorded
    as fewer than asked)."""
    import os

    value, cpus = positive_int(text), os.cpu_count() or 1
    if value > cpus:
        raise argparse.ArgumentTypeError(f"{value} threads asked for, but this machine has {cpus} CPU(s); "
                                         f"choose 1 … {cpus}")
    return value


def _parse_overrides(pairs: list[str]) -> dict:
    """``--set hidden=13,13 --set dropout=0.2 --set activation=relu`` → {"hidden": (13, 13), "dropout": 0.2,
    "activation": "relu"}: a JSON value, several of them (a tuple), or else the text as it is."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value.strip():
            raise ValueError(f"--set expects KEY=VALUE with a value, got {pair!r}")
        try:
            parsed = json.loads(f"[{value}]")
            out[key] = parsed[0] if len(parsed) == 1 else tuple(parsed)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _save_paths(pattern: str | None, frameworks: list[str]) -> dict[str, str]:
    """{framework: checkpoint path} from ``--save``, checked before any work: ``{framework}`` is needed
    when several frameworks run; ``{ext}`` becomes each one's extension (.npz, .pt, .weights.h5)."""
    if not pattern:
        return {}
    if len(frameworks) > 1 and "{framework}" not in pattern:
        raise ValueError(f"--save {pattern!r} would be written by each of {len(frameworks)} frameworks; put "
                         f"{{framework}} in it, e.g. --save model_{{framework}}{{ext}}")
    paths = {name: pattern.replace("{framework}", name).replace("{ext}", EXTENSIONS[name][0]) for name in frameworks}
    return {name: check_checkpoint_path(path, name, "--save") for name, path in paths.items()}


# ---------------------------------------------------------------- train


def cmd_train(args) -> int:
    """Train; the ``--save`` files are locked for the whole run (a second run saving to one of them fails at
    once: two runs never both print "saved" for one file)."""
    frameworks = _frameworks(args.framework)
    saves = _save_paths(args.save, frameworks)
    with file_locks(saves.values()):
        return _train(args, frameworks, saves)


def _train(args, frameworks: list[str], saves: dict[str, str]) -> int:
    from triptych.experiments import epochs_for, load_experiment
    from triptych.runs import epoch_printer, train_and_evaluate

    spec = get_spec(args.model)
    exp = load_experiment(args.model, args.data, seed=0)
    config = {**exp.overrides, **_parse_overrides(args.set)}
    epochs = args.epochs if args.epochs is not None else epochs_for(args.model, args.data)
    print(f"{args.model}: {spec.description}")
    print(f"data: {exp.source}")
    print(f"train {exp.X_train.shape} / test {exp.X_test.shape}; epochs {epochs}")
    if args.replicas > 1 and "scratch" in frameworks and len(frameworks) > 1:
        frameworks.remove("scratch")
        saves.pop("scratch", None)
        print("[scratch] no data-parallel training (one NumPy process); skipped")
    options = dict(epochs=epochs, lr=args.lr, optimizer=args.optimizer)  # None: the recipe's
    if args.batch_size is not None:
        options["batch_size"] = None if args.batch_size == 0 else args.batch_size
    start, trained = None, {}  # the first framework's initial weights, loaded by every other
    for name in frameworks:
        label = get_framework(name).label
        if args.replicas > 1:
            from triptych.distributed import SCHEMES

            if label in SCHEMES:
                print(f"[{label}] data-parallel on {args.replicas} replicas: {SCHEMES[label]}", flush=True)
        run = train_and_evaluate(name, exp, start, seed=spec.training["seed"] if args.seed is None else args.seed,
                                 dtype=args.dtype, config=config, replicas=args.replicas,
                                 progress=epoch_printer(epochs, lambda line: print(f"  [{label}] {line}", flush=True)),
                                 **options)
        start = run.initial_weights if start is None else start
        steps, seconds = len(run.history["loss"]), run.history["seconds"]
        shown = "  ".join(f"{k} {v:.4f}" for k, v in run.metrics.items())
        print(f"[{label}] {steps} steps in {seconds:.1f} s ({1000 * seconds / steps:.2f} ms/step) — test {shown}")
        if spec.describe:
            print(f"[{label}] {spec.describe(run.fw.get_weights(run.net), run.outputs)}")
        trained[name] = run
    with atomic_paths(saves.values()) as temps:  # every framework's file, or none
        for (name, path), temp in zip(saves.items(), temps):
            trained[name].fw.save(trained[name].net, temp)
    for name, path in saves.items():
        print(f"[{name}] saved {path}")
    return 0


# ---------------------------------------------------------------- study


def format_study(result) -> str:
    """A study's table, then its checks, as plain text."""
    def show(value):
        return f"{value:.4g}" if isinstance(value, float) else str(value)
    cells = [[show(row.get(c, "")) for c in result.columns] for row in result.rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(result.columns)]
    lines = [result.title, "  ".join(c.ljust(w) for c, w in zip(result.columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    for check in result.checks:
        lines.append(f"{'ok  ' if check['passed'] else 'FAIL'} {check['what']}: {show(check['value'])} "
                     f"(target {check['target']})")
    lines += result.notes
    return "\n".join(lines)


def cmd_study(args) -> int:
    spec = get_study(args.name)
    print(f"{spec.name}: {spec.description}", flush=True)
    result = spec.run(_frameworks(args.framework), quick=args.quick, progress=print)
    if not isinstance(result, StudyResult):
        raise ValueError(f"study {spec.name!r}: run() returned {type(result).__name__}; expected a StudyResult")
    print(format_study(result))
    return 0 if result.ok else 1


# ---------------------------------------------------------------- summary


def cmd_summary(args) -> int:
    from triptych.canonical import table_markdown
    from triptych.registry import resolve

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
    from triptych.parity import format_table, run_ladder

    dtypes = sorted(DTYPES, reverse=True) if args.dtype == "both" else [args.dtype]  # float64 first
    for model in args.models:
        get_spec(model)
    if args.keras_backend:
        from triptych.backends import keras_label, ladders_on_backends

        results = ladders_on_backends(KERAS_BACKENDS if "all" in args.keras_backend else args.keras_backend,
                                      list(args.models or MODELS), dtypes, args.frameworks,
                                      progress=lambda r: print(f"parity: {r['model']} {r['dtype']} "
                                                               f"({keras_label(r['backend'])}) …", file=sys.stderr,
                                                               flush=True))
    else:
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


def cmd_convert(args) -> int:
    from triptych.checkpoints import load_npz

    src_fw, dst_fw = checkpoint_framework(args.src), checkpoint_framework(args.dst)
    check_checkpoint_path(args.dst, dst_fw, "destination")
    model, overrides, stored = args.model, _parse_overrides(args.set), {}
    if src_fw == "scratch":
        _, meta = load_npz(args.src)
        if meta:
            if model is not None and meta.get("model") != model:
                raise ValueError(f"checkpoint {args.src!r} holds model {meta.get('model')!r}, not {model!r} "
                                 f"(--model); leave --model out to convert the model it holds")
            model, stored = meta["model"], meta["config"]
    if model is None:
        raise ValueError(f"say which model {args.src!r} holds with --model ({', '.join(MODELS)})")
    arch = get_spec(model).arch
    unknown = sorted(set(overrides) - set(arch))
    if unknown:  # a typo (--set unitz=8) is an error, never dropped
        raise ValueError(f"--set: model {model!r} has no option {', '.join(map(repr, unknown))}; expected some of "
                         f"{', '.join(sorted(arch))}")
    overrides = {**{k: v for k, v in stored.items() if k in arch}, **overrides}
    stored_dtype = _checkpoint_dtype(args.src, src_fw)
    dtype = args.dtype or stored_dtype
    source = get_framework(src_fw)
    net = source.build(model, dtype=stored_dtype, **overrides)
    source.load(net, args.src)
    target = get_framework(dst_fw)
    out = target.build(model, dtype=dtype, **overrides)
    target.set_weights(out, source.get_weights(net))
    target.save(out, args.dst)
    said = f"{stored_dtype} kept" if dtype == stored_dtype else f"{stored_dtype} → {dtype} (--dtype)"
    print(f"{model}: {args.src} ({src_fw}) → {args.dst} ({dst_fw}), {said}")
    return 0


def _checkpoint_dtype(path: str, framework: str) -> str:
    """The floating-point dtype a checkpoint's weights are stored in (float32 or float64; float64 when it
    holds none, and the load then says what is wrong)."""
    import numpy as np

    if framework == "scratch":
        from triptych.checkpoints import load_npz

        dtypes = [a.dtype for a in load_npz(path)[0].values()]
    elif framework == "torch":
        try:
            import torch

            state = torch.load(path, weights_only=True, map_location="cpu")
            dtypes = [np.dtype(str(v.dtype).removeprefix("torch.")) for v in state.values()]
        except Exception:  # noqa: BLE001 — the load reports what is wrong with the file
            dtypes = []
    else:
        try:
            import h5py

            dtypes = []
            with h5py.File(path, "r") as f:
                f.visititems(lambda name, item: dtypes.append(item.dtype) if isinstance(item, h5py.Dataset) else None)
        except Exception:  # noqa: BLE001
            dtypes = []
    floats = {str(d) for d in dtypes if np.issubdtype(d, np.floating)}
    return "float32" if floats == {"float32"} else "float64"


# ---------------------------------------------------------------- bench


def cmd_bench(args) -> int:
    from triptych.bench import default_models, format_bench, run_bench

    for model in args.models:
        get_spec(model)
    kernels = (args.scratch_kernels,) if args.scratch_kernels else KERNEL_SETS  # scratch with both, unless one is named
    rows = run_bench(args.models or default_models(), frameworks=_frameworks(args.framework), steps=args.steps,
                     dtype=args.dtype, rounds=args.rounds, threads=args.threads, scratch_kernels=kernels,
                     progress=lambda line: print(line, file=sys.stderr if args.json else sys.stdout, flush=True))
    print(json.dumps(rows, indent=1) if args.json else format_bench(rows))
    return 0


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triptych", description="Classic neural networks written three "
                                     "times (NumPy from scratch, PyTorch, Keras 3) and proven equal.")
    parser.add_argument("--plugin", action="append", metavar="PATH", default=[],
                        help="a Python file or package that registers your own models or studies "
                             "(triptych.register_model); may be repeated")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", help="let the frameworks print their start-up lines "
                        f"(sets {VERBOSE}=1 before any is loaded)")
    kernels = argparse.ArgumentParser(add_help=False)
    kernels.add_argument("--scratch-kernels", choices=KERNEL_SETS, help="scratch's operations: fast (tuned "
                         "kernels, the default) or reference (the plain equations); sets " + SCRATCH_KERNELS)
    models = list(MODELS)
    model_arg = dict(choices=models, metavar="MODEL", help=f"one of: {', '.join(models)}")
    fw_arg = dict(choices=(*FRAMEWORKS, "all"), default="all", help="scratch | torch | keras | all (default)")

    p = sub.add_parser("train", parents=[common, kernels],
                       help="train a model in one or all frameworks and print its test metrics")
    p.add_argument("model", **model_arg)
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--batch-size", type=int, help="0 means full batch")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZER_OPTIONS))
    p.add_argument("--seed", type=int)
    p.add_argument("--dtype", choices=DTYPES, default="float32")
    p.add_argument("--data", help="; ".join(f"{m}: {MODELS[m].data.data_help}" for m in models
                                                if MODELS[m].data.takes_data))
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a spec option, e.g. hidden=13")
    p.add_argument("--save", metavar="PATH", help="save each trained model, all or none, in the format its "
                   "extension names (.npz, .pt, .weights.h5); {framework} in PATH becomes the framework (needed "
                   "with several) and {ext} its extension, e.g. xor_{framework}{ext}")
    p.add_argument("--replicas", type=positive_int, default=1, metavar="N",
                   help="train data-parallel on N replicas: torch DDP over gloo, Keras MirroredStrategy "
                        "(TensorFlow) or DataParallel (--keras-backend jax); every batch must split evenly")
    p.add_argument("--keras-backend", choices=KERAS_BACKENDS, action=_Once,
                   help="the backend Keras runs on in this process (default: KERAS_BACKEND, else tensorflow)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("summary", parents=[common],
                       help="layers, output shapes and parameter counts in each framework")
    p.add_argument("model", **model_arg)
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("parity", parents=[common, kernels],
                       help="run the parity ladder and print max differences per rung and pair")
    p.add_argument("models", nargs="*", metavar="MODEL", help=f"any of: {', '.join(models)} (default: all)")
    p.add_argument("--dtype", choices=(*DTYPES, "both"), default="float64")
    p.add_argument("--frameworks", nargs="+", choices=FRAMEWORKS, action=_Once)
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--keras-backend", nargs="+", choices=(*KERAS_BACKENDS, "all"), metavar="BACKEND", action=_Once,
                   help="run the ladder with Keras on these backends (tensorflow, jax, torch or all), each in a "
                        "process of its own; Keras is then keras, keras[jax], keras[torch] in the table")
    p.set_defaults(func=cmd_parity)

    p = sub.add_parser("convert", parents=[common],
                       help="convert a checkpoint: .pt (torch) ↔ .weights.h5 (Keras) ↔ .npz (canonical)")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--model", choices=models, help="the model the checkpoint holds (read from .npz when saved there)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="spec overrides the checkpoint was built with")
    p.add_argument("--dtype", choices=DTYPES, help="the destination's dtype (default: the source's, kept)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("bench", parents=[common, kernels],
                       help="ms per training step per framework through the API and in a plain baseline, "
                            "ratios, GFLOP/s and peak step memory")
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"any of: {', '.join(models)} (default: all of them)")
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--steps", type=int, default=30, help="training steps per timed epoch")
    p.add_argument("--rounds", type=int, default=3, help="alternating API and plain runs; the best of each is kept")
    p.add_argument("--dtype", choices=DTYPES, default="float32")
    p.add_argument("--threads", type=_threads, help="threads for every framework, 1 … the CPU count (default: "
                   "each library's own)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON (progress goes to stderr)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("study", parents=[common],
                       help="run a study (an experiment comparing runs) and print its table")
    p.add_argument("name", choices=list(STUDIES), metavar="STUDY", help=f"one of: {', '.join(STUDIES)}")
    p.add_argument("--framework", **fw_arg)
    p.add_argument("--quick", action="store_true", help="fewer epochs (a smoke run)")
    p.set_defaults(func=cmd_study)
    for command in installed_commands():  # the report's, compare's and any other package's (triptych.commands)
        p = sub.add_parser(command.name, help=command.help, parents=[common, kernels] if command.scratch_kernels
                           else [common])
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def _load_plugins(argv: list[str]) -> None:
    """Import every ``--plugin PATH`` before the parser is built, so their models are valid choices."""
    for i, arg in enumerate(argv):
        if arg == "--plugin" and i + 1 < len(argv):
            load_plugin(argv[i + 1])
        elif arg.startswith("--plugin="):
            load_plugin(arg.partition("=")[2])


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        try:
            _load_plugins(argv)
        except SystemExit as exc:  # a plugin's sys.exit() would end triptych quietly, the command never run
            print(f"triptych: error: cannot load plugin: it called sys.exit({exc.code!r}) while being imported; "
                  f"a plugin must only register models and studies", file=sys.stderr)
            return 2
        except Exception as exc:  # noqa: BLE001 — a user's file: any error is theirs, shown in one line
            print(f"triptych: error: cannot load plugin: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        args = build_parser().parse_args(argv)
        args.__dict__.pop("_given_once", None)
        _refuse_duplicates(args, argv)
        if args.verbose:  # before any framework is loaded
            set_verbose()
        if getattr(args, "scratch_kernels", None):
            set_kernel_set(args.scratch_kernels)
        if args.command == "train" and args.keras_backend:
            use_keras_backend(args.keras_backend)
        return args.func(args)
    except (ValueError, FrameworkUnavailable, OSError) as exc:  # OSError: a disk full, a file that vanished
        print(f"triptych: error: {' '.join(str(exc).splitlines())}", file=sys.stderr)  # one line, always
        return 2
    except MemoryError:
        print("triptych: error: out of memory (a smaller model, batch or data set may fit)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("triptych: interrupted; files from earlier runs are as they were", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
