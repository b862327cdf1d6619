"""Which package implements each framework, and what to install for it: written once.

    PACKAGES = {"scratch": "scratch", "torch": "torch_impl", "keras": "keras_impl"}
    install_hint("torch")   # "pip install torch==2.13.0": the pin as pyproject.toml declares it

The registry finds a model's modules by this map (``<package>.<model>``) and ``get_framework`` the
framework's set-up and backend (``<package>.setup``, ``<package>.framework``); both re-export it
(``triptych.frameworks.PACKAGES``).  The porting toolkit (``triptych.compare``) lives in the package
:data:`PORTING`, above the framework packages it pairs, and is reached by name the same way
(:func:`porting_module`).  The versions come from the installed distribution's requirements
(pyproject.toml's ``dependencies``, the one place they are written); where triptych is not installed
the hint names the distributions without a version.
"""
from __future__ import annotations

import re
import shlex
from importlib import import_module
from importlib.metadata import PackageNotFoundError, requires

PACKAGES = {"scratch": "scratch", "torch": "torch_impl", "keras": "keras_impl"}
FRAMEWORKS = tuple(PACKAGES)
PORTING = "porting"  # the package of triptych.compare and triptych.transfer: it stands on torch_impl and keras_impl
DISTRIBUTIONS = {"scratch": ("numpy",), "torch": ("torch",), "keras": ("tensorflow-cpu", "keras")}  # pip names
PROJECT = "triptych"  # the distribution whose requirements pin them


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(distribution: str) -> str:
    """The requirement triptych declares for ``distribution`` (e.g. "torch==2.13.0"), read from the installed
    distribution's metadata; the bare name where triptych is not installed or does not name it."""
    try:
        declared = requires(PROJECT) or []
    except PackageNotFoundError:
        return distribution
    for line in declared:
        spec, _, marker = line.partition(";")
        name = re.match(r"[A-Za-z0-9._-]+", spec.strip())
        if name and _normal(name.group()) == _normal(distribution) and "extra" not in marker:
            return "".join(spec.split())
    return distribution


def install_hint(framework: str) -> str:
    """The command that installs ``framework``'s libraries, e.g. "pip install torch==2.13.0": a pinned
    distribution with its pin, the others by name (pip's newest meets a lower bound such as keras>=3.5)."""
    names = DISTRIBUTIONS[framework]
    return "pip install " + " ".join(shlex.quote(r if "==" in r else d) for r, d in zip(map(requirement, names), names))


def porting_module(name: str):
    """``porting.<name>``, imported when ``triptych.compare``, ``transfer`` or ``testing`` is first called: the
    toolkit imports torch_impl and keras_impl, which the core (this package) never imports itself."""
    return import_module(f"{PORTING}.{name}")
