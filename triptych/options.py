"""Declared types and ranges of spec options, checked once for all three frameworks.

A rule takes (model, key, value) and returns the value in its canonical Python form, or raises a
ValueError that names the model, the option, what was expected and what was given.  A model's
declaration maps each architecture key to a rule (``ModelSpec.rules``); :func:`check_config`
applies them on every build, so no framework-specific crash reaches the user.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

Rule = Callable[[str, str, Any], Any]


def _fail(model: str, key: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"model {model!r}: option {key!r} must be {expected}, got {value!r}")


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(low: int = 1, high: int | None = None) -> Rule:
    """An integer in [low, high]."""
    text = f"an integer ≥ {low}" + (f" and ≤ {high}" if high is not None else "")

    def rule(model, key, value):
        if not _is_int(value) or value < low or (high is not None and value > high):
            raise _fail(model, key, text, value)
        return int(value)
    return rule


def int_tuple(low: int = 1, min_len: int = 1, max_len: int | None = None) -> Rule:
    """A tuple of integers ≥ low (a single integer is a 1-tuple; a list becomes a tuple)."""
    text = f"a tuple of {min_len}{'' if max_len is None else f'–{max_len}'}+ integers ≥ {low}"

    def rule(model, key, value):
        items = (value,) if _is_int(value) else value
        if not isinstance(items, (tuple, list)) or not all(_is_int(v) and v >= low for v in items) \
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
    text = "a number in [0, 1]" if include_one else "a number in [0, 1)"

    def rule(model, key, value):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value \
            and (value <= 1 if include_one else value < 1)
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


def choice(*options: str) -> Rule:
    def rule(model, key, value):
        if value not in options:
            raise _fail(model, key, f"one of {', '.join(map(repr, options))}", value)
        return value
    return rule


def check_config(spec, config: dict) -> dict:
    """``config`` with every ruled key checked and normalised (tuples for lists, ints for numpy ints)."""
    out = dict(config)
    for key, rule in spec.rules.items():
        if key in out:
            out[key] = rule(spec.name, key, out[key])
    return out


# names the declarations' rules accept, the same in every framework
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu")
DENSE_INITS = ("default", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros")
