"""Commands that other packages add to the ``triptych`` command line.

A package declares its commands as entry points of the group ``triptych.commands``, each naming a
:class:`Command`; the report declares ``report`` so (pyproject.toml)::

    [project.entry-points."triptych.commands"]
    report = "reports.generate:COMMAND"

so the core's CLI runs the report without importing ``reports/``: the CLI sits on top of both.  The
entry points are read from the installed distributions' metadata (``pip install -e .`` writes it).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Callable

GROUP = "triptych.commands"


def positive_int(text: str) -> int:
    """An argparse type for every command's counts (``--jobs``, ``--replicas``, ``--threads``): an integer ≥ 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 1, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class Command:
    """One sub-command: ``add_arguments(parser)`` declares its options, ``run(args)`` returns the exit code;
    ``scratch_kernels``: it trains scratch, so it takes ``--scratch-kernels``."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    scratch_kernels: bool = False


def installed_commands() -> list[Command]:
    """The commands of the ``triptych.commands`` entry points, by name; one that cannot be loaded is
    left out with a line on stderr saying why (the other commands keep working)."""
    found = {}
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        try:
            command = point.load()
        except Exception as exc:  # noqa: BLE001 — another package's code: any error is its, shown in one line
            print(f"triptych: warning: command {point.name!r} ({point.value}) cannot be loaded: "
                  f"{type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        if not isinstance(command, Command) or command.name != point.name:
            print(f"triptych: warning: entry point {point.name!r} ({point.value}) is not a Command named "
                  f"{point.name!r}; left out", file=sys.stderr)
            continue
        found.setdefault(command.name, command)
    return list(found.values())
