"""Declared types and ranges of every option, checked once for all three frameworks.

A rule takes (model, key, value) and returns the value in its canonical Python form, or raises a
ValueError that names the model, the option, what was expected and what was given — the same message
whatever the framework.  Three kinds of option are checked here:

- spec overrides: a model's declaration maps each architecture key to a rule (``ModelSpec.rules``);
  :func:`check_config` applies them on every build, then computes the layout once, so that a
  configuration whose layers cannot exist (a kernel larger than the image) fails here too;
- training options (:data:`TRAINING_RULES`: epochs, batch size, learning rate, seed, decay, …);
- optimizer options (:data:`OPTIMIZER_OPTION_RULES`, one rule per option name whatever the optimizer;
  ``triptych.frameworks.OPTIMIZER_OPTIONS`` declares which optimizer takes which), by
  :func:`check_training`.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np

Rule = Callable[[str | None, str, Any], Any]


def _fail(model: str | None, key: str, expected: str, value: Any) -> ValueError:
    where = f"model {model!r}: " if model else ""
    return ValueError(f"{where}option {key!r} must be {expected}, got {value!r}")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def integer(low: int | None = 1, high: int | None = None) -> Rule:
    """An integer (numpy integers too) in [low, high] (None: unbounded); returned as a Python int."""
    text = (f"an integer in [{low}, {high}]" if low is not None and high is not None
            else f"an integer ≥ {low}" if low is not None else "an integer")

    def rule(model, key, value):
        if not _is_int(value) or (low is not None and value < low) or (high is not None and value > high):
            raise _fail(model, key, text, value)
        return int(value)
    return rule


def int_tuple(low: int | None = 1, min_len: int = 1, max_len: int | None = None) -> Rule:
    """A tuple of integers ≥ low (a single integer is a 1-tuple; a list becomes a tuple)."""
    count = (f"{min_len} or more" if max_len is None else str(min_len) if min_len == max_len
             else f"{min_len} to {max_len}")
    text = f"a tuple of {count} integers" + (f" ≥ {low}" if low is not None else "")

    def rule(model, key, value):
        items = (value,) if _is_int(value) else value
        if not isinstance(items, (tuple, list)) or not all(_is_int(v) and (low is None or v >= low) for v in items) \
                or len(items) < min_len or (max_len is not None and len(items) > max_len):
            raise _fail(model, key, text, value)
        return tuple(int(v) for v in items)
    return rule


def size_pair(low: int = 1) -> Rule:
    """(height, width), two integers ≥ low."""
    inner = int_tuple(low, 2, 2)

    def rule(model, key, value):
        try:
            return inner(model, key, value)
        except ValueError:
            raise _fail(model, key, f"(height, width): two integers ≥ {low}", value) from None
    return rule


def fraction(include_one: bool = False) -> Rule:
    """A real number in [0, 1) (or [0, 1])."""
    return real(0.0, 1.0, high_open=not include_one)


def real(low: float | None = None, high: float | None = None, low_open: bool = False,
         high_open: bool = False) -> Rule:
    """A finite real number (numpy scalars too) in the interval given; returned as a Python float."""
    if low is not None and high is not None:
        text = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        text = f"a finite number {'>' if low_open else '≥'} {low:g}"
    elif high is not None:
        text = f"a finite number {'<' if high_open else '≤'} {high:g}"
    else:
        text = "a finite number"

    def rule(model, key, value):
        ok = _is_real(value) and math.isfinite(value) \
            and (low is None or (value > low if low_open else value >= low)) \
            and (high is None or (value < high if high_open else value <= high))
        if not ok:
            raise _fail(model, key, text, value)
        return float(value)
    return rule


def non_negative() -> Rule:
    """A finite real number ≥ 0."""
    def rule(model, key, value):
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0 <= value < float("inf"):
            raise _fail(model, key, "a finite number ≥ 0", value)
        return float(value)
    return rule


def flag() -> Rule:
    """True or False (numpy booleans too)."""
    def rule(model, key, value):
        if not isinstance(value, (bool, np.bool_)):
            raise _fail(model, key, "True or False", value)
        return bool(value)
    return rule


def optional(inner: Rule, meaning: str) -> Rule:
    """None (which means ``meaning``) or what ``inner`` accepts."""
    def rule(model, key, value):
        if value is None:
            return None
        try:
            return inner(model, key, value)
        except ValueError as exc:
            raise ValueError(f"{exc}; or None ({meaning})") from None
    return rule


def like(default) -> Rule:
    """The fallback for an option its declaration gives no rule: the type of its default (an integer,
    a finite number, a string, True/False, a tuple of integers or of anything); a default of None
    says nothing about its type, so anything goes."""
    if default is None:
        return lambda model, key, value: value
    if isinstance(default, (bool, np.bool_)):
        return flag()
    if _is_int(default):
        return integer(None)
    if _is_real(default):
        return real()
    if isinstance(default, tuple) and all(_is_int(v) for v in default):
        return int_tuple(None, min_len=0)

    def rule(model, key, value):
        if type(value) is not type(default) and not (isinstance(default, tuple) and isinstance(value, list)):
            raise _fail(model, key, f"of type {type(default).__name__} like its default {default!r}", value)
        return tuple(value) if isinstance(default, tuple) else value
    return rule


def choice(*options: str) -> Rule:
    """One of the strings ``options``."""
    def rule(model, key, value):
        if not isinstance(value, str) or value not in options:
            raise _fail(model, key, f"one of {', '.join(map(repr, options))}", value)
        return value
    return rule


def check_config(spec, config: dict) -> dict:
    """``config`` with every key checked against its rule (or, without one, against its default's type)
    and normalised (tuples for lists, ints for numpy ints); then the layout is computed once, so a
    configuration whose layers cannot exist fails here, before any framework builds it."""
    out = dict(config)
    for key, value in config.items():
        rule = spec.rules.get(key) or like(spec.arch[key])
        out[key] = rule(spec.name, key, value)
    spec.layout(out)
    return out


# ---------------------------------------------------------------- training and optimizer options

LR_DECAYS = ("none", "linear", "exponential")
SEED_MAX = 2 ** 32 - 1  # NumPy's legacy seeding (which Keras's set_random_seed calls) takes no more

TRAINING_RULES: dict[str, Rule] = {
    "epochs": integer(1),
    "batch_size": optional(integer(1), "full batch"),
    "lr": real(0.0, low_open=True),
    "seed": integer(0, SEED_MAX),
    "eval_every": optional(integer(1), "no evaluation"),
    "keep_best": flag(),
    "lr_decay": choice(*LR_DECAYS),
    "decay_rate": real(0.0),
}

# One rule per optimizer option, whatever the optimizer that takes it; which optimizer takes which
# option is declared once in triptych.frameworks.OPTIMIZER_OPTIONS (adding an optimizer is one entry
# there, plus a rule here for any option name not yet listed).
OPTIMIZER_OPTION_RULES: dict[str, Rule] = {
    "momentum": fraction(),
    "nesterov": flag(),
    "weight_decay": real(0.0),
    "beta_1": fraction(),
    "beta_2": fraction(),
    "epsilon": real(0.0, low_open=True),
    "rho": fraction(),
    "centered": flag(),
}


def check_training(model: str, values: dict, optimizer, options: dict, declared: dict) -> tuple[dict, dict]:
    """Training ``values`` (keys of :data:`TRAINING_RULES`) and the ``options`` of ``optimizer``, checked
    and normalised; ``declared`` is {optimizer: option names it takes}.  Returns (values, options)."""
    values = {key: TRAINING_RULES[key](model, key, value) for key, value in values.items()}
    if not isinstance(optimizer, str) or optimizer not in declared:
        raise ValueError(f"model {model!r}: unknown optimizer {optimizer!r}; expected one of {sorted(declared)}")
    unknown = sorted(set(options) - set(declared[optimizer]))
    if unknown:
        raise ValueError(f"model {model!r}: optimizer {optimizer!r} takes no option "
                         f"{', '.join(map(repr, unknown))}; expected some of {sorted(declared[optimizer])}")
    options = {key: OPTIMIZER_OPTION_RULES[key](model, key, value) for key, value in options.items()}
    if options.get("nesterov") and not options.get("momentum"):
        raise ValueError(f"model {model!r}: option 'nesterov' needs a momentum > 0, got momentum "
                         f"{options.get('momentum', 0.0)!r}")
    if values.get("lr_decay", "none") == "none" and values.get("decay_rate"):
        raise ValueError(f"model {model!r}: option 'decay_rate' {values['decay_rate']!r} needs lr_decay "
                         f"'linear' or 'exponential', got lr_decay 'none'")
    if values.get("lr_decay") == "exponential" and not values.get("decay_rate"):
        raise ValueError(f"model {model!r}: option 'decay_rate' must be > 0 with lr_decay 'exponential' "
                         f"(lr · rate^epoch), got {values.get('decay_rate')!r}")
    return values, options


# names the declarations' rules accept, the same in every framework
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
DENSE_INITS = ("default", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros")
