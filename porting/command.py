"""``triptych compare FILE:torch_factory FILE:keras_factory``: the ladder of triptych.compare from the command line.

Each factory is a function of no arguments in a Python file that returns the model (an nn.Module, a keras.Model).
The input is a seeded standard-normal batch of ``--input-shape`` (as torch takes it, without the batch axis;
default: the Keras model's input shape, moved channels first for images).  Prints the rung table and the first
divergence; exits 0 when every rung passes, 1 when one fails.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

from porting.ladder import LOSSES, OPTIMIZERS
from triptych.commands import Command


def factory(spec: str):
    """``FILE:function`` → the function, the file imported as a module of its own."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise ValueError(f"{spec!r}: expected FILE:function, e.g. examples/port/torch_cnn.py:build")
    if not Path(path).is_file():
        raise ValueError(f"{spec!r}: no file {path!r}")
    module_spec = importlib.util.spec_from_file_location(f"triptych_compare_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    sys.path.insert(0, str(Path(path).resolve().parent))  # the file's own imports of its neighbours
    try:
        module_spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ValueError(f"{spec!r}: {path} has no function {name!r}")
    return fn


def _shape(text: str) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        shape = ()
    if not shape or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive sizes such as 3,32,32")
    return shape


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("torch_factory", metavar="FILE:torch_factory")
    p.add_argument("keras_factory", metavar="FILE:keras_factory")
    p.add_argument("--input-shape", type=_shape, metavar="C,H,W", help="one input as torch takes it, without the "
                   "batch axis (default: the Keras model's input shape)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--loss", choices=LOSSES, default="mse")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)


def _run(args: argparse.Namespace) -> int:
    from triptych.frameworks import get_framework
    from porting.ladder import compare
    from porting.pairing import example_input

    for name in ("torch", "keras"):  # each set up as the other commands set it up (quiet start-up, the backend)
        get_framework(name)
    torch_model, keras_model = factory(args.torch_factory)(), factory(args.keras_factory)()
    if args.input_shape:
        X = np.random.default_rng(args.seed).standard_normal((args.batch, *args.input_shape))
    else:
        X = example_input(torch_model, keras_model, batch=args.batch, seed=args.seed)
    result = compare(torch_model, keras_model, X, loss=args.loss, optimizer=args.optimizer, lr=args.lr,
                     steps=args.steps)
    print(result.table())
    return 0 if result.passed else 1


COMMAND = Command("compare", "prove your own torch model and its Keras port equal, rung by rung, and name the first "
                  "layer where they part (triptych.compare)", _add_arguments, _run)
