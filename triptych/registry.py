"""The model and study registry: one declaration per model, one per study, found in one place.

A model is a :class:`ModelSpec` (what the rest of the code asks about it) plus three modules
that follow the hook contract of the README ("Adding a model"): ``scratch/<name>.py``,
``torch_impl/<name>.py`` and ``keras_impl/<name>.py``.  The built-in declarations live in
``triptych/models/`` and ``triptych/studies/`` and are discovered, not listed; a user's own
model or study joins through :func:`register_model` / :func:`register_study` and then gets the
whole parity ladder, ``train``, ``summary``, ``convert``, ``bench`` and the report.

    MODELS            # live, ordered view: iterate names, ``name in MODELS``, ``MODELS[name]`` → spec
    get_spec(name)    # the ModelSpec, or a ValueError naming the registered models
    resolve(name, overrides)   # the architecture config every framework's build receives
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterator

import numpy as np

from triptych.options import integer
from triptych.packages import PACKAGES

TASKS = ("binary", "regression", "classification", "reconstruction")

Layout = dict[str, tuple[tuple[int, ...], str]]  # canonical name -> (shape, meaning), in order
# the functions each framework's model module must define ("a|b": either name; torch's old loss_fn)
HOOKS = {"scratch": ("build", "train"), "torch": ("build", "to_canonical", "from_canonical", "loss|loss_fn", "train"),
         "keras": ("build", "canonical_variables", "loss", "train")}


@dataclass
class Experiment:
    """A model's standard data: train/test split and where it came from (printed and recorded)."""

    model: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    overrides: dict = field(default_factory=dict)  # spec overrides the data implies (e.g. in_features)


@dataclass(frozen=True)
class DataSource:
    """Where a model's experiment data comes from.

    ``load(data, quick, seed) -> (X_train, y_train, X_test, y_test, source, overrides)``; ``data`` is the
    user's ``--data`` value (None for the default).  ``takes_data`` says whether ``--data`` means anything
    to this source (``data_help`` says what); ``full_epochs`` replaces the spec's epochs when ``data``
    names the full data set (any value other than None and ``default_data``)."""

    load: Callable[..., tuple]
    description: str
    takes_data: bool = False
    data_help: str = ""
    default_data: str | None = None
    full_epochs: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    """Everything Triptych asks about one model.

    name:        registry key, and the file name of its three implementations
    task:        "binary" (probabilities, BCE) | "regression" (MSE) | "classification" (integer labels,
                 (N, C) outputs: logits for softmax CE unless ``metrics`` says otherwise) | "reconstruction" (the
                 target is the input: y has X's shape, values in [0, 1]; outputs of that shape, MSE on them)
    arch:        architecture defaults; every key may be overridden in ``build(...)`` / ``--set``
    rules:       {arch key: rule} checked on every build (triptych.options)
    training:    epochs, batch_size (None = full batch), lr, optimizer, seed, eval_every, keep_best,
                 options of that optimizer (momentum, …: used by ``train`` unless the caller names another
                 optimizer or gives the option)
    input_shape: config → per-sample input shape (None marks a free axis, e.g. sequence length)
    layout:      config → canonical layout {name: (shape, meaning)}
    data:        the standard experiment's data source
    parity:      the small parity problem: n, batch_size, epochs, lr, optimizer, overrides, seq_len
    bench:       the bench problem: batch_size, seq_len
    flops:       config, seq_len → forward FLOPs per sample (matmuls; 2 per multiply-add)
    describe:    optional (weights, outputs on the test inputs) → one line ``train`` prints
    metrics:     optional (predictions, targets) → {"loss", …}: test metrics where the task's default
                 (triptych.experiments.metrics) does not fit, e.g. a classifier trained on MSE
    modules:     {framework: module or dotted name}; defaults to ``<package>.<name>``
    min_epochs:  the fewest epochs on the default data whose test figures mean anything; the report's time cap
                 (reports.run.DEFAULT_DATA_TRAINING_GFLOP) never trains less
    """

    name: str
    task: str
    description: str
    arch: dict[str, Any]
    training: dict[str, Any]
    input_shape: Callable[[dict], tuple]
    layout: Callable[[dict], Layout]
    data: DataSource
    parity: dict[str, Any]
    flops: Callable[[dict, int | None], int]
    rules: dict[str, Callable] = field(default_factory=dict)
    bench: dict[str, Any] = field(default_factory=dict)
    describe: Callable[[dict, np.ndarray], str] | None = None
    metrics: Callable[[np.ndarray, np.ndarray], dict[str, float]] | None = None
    modules: dict[str, Any] = field(default_factory=dict)
    teaches: str = ""  # what a learner takes from it (curriculum index)
    origin: str = ""  # where it comes from in the curriculum
    order: int = 1000  # position in listings (built-ins first)
    min_epochs: int = 1

    def module(self, framework: str) -> ModuleType:
        """The implementation module of this model in ``framework`` (imported on first use), checked to define
        the framework's hooks (:data:`HOOKS`): a module that does not exist or lacks a hook is a ValueError
        naming the model, the framework and what was expected."""
        target = self.modules.get(framework, f"{PACKAGES[framework]}.{self.name}")
        if isinstance(target, str):
            try:
                module = importlib.import_module(target)
            except ModuleNotFoundError as exc:
                if exc.name is None or not (target == exc.name or target.startswith(f"{exc.name}.")):
                    raise  # something the module itself imports (a missing framework): not this model's fault
                raise ValueError(f"model {self.name!r}: its {framework} implementation module {target!r} does not "
                                 f"exist; write it, or pass {framework}=<module> to register_model") from None
        else:
            module = target
        missing = [hook for hook in HOOKS[framework]
                   if not any(callable(getattr(module, name, None)) for name in hook.split("|"))]
        if missing:
            shown = getattr(module, "__name__", repr(module))
            raise ValueError(f"model {self.name!r}: its {framework} module {shown!r} lacks "
                             f"{', '.join(h.split('|')[0] + '()' for h in missing)}; a {framework} model module "
                             f"defines {', '.join(h.split('|')[0] + '()' for h in HOOKS[framework])}")
        return module


@dataclass
class StudyResult:
    """What a study produced: a table (rows of dicts over ``columns``), findings checked against
    their targets, and plots (title → function writing a PNG to the path it is given)."""

    title: str
    columns: list[str]
    rows: list[dict]
    checks: list[dict] = field(default_factory=list)  # {"what", "value", "target", "passed"}
    notes: list[str] = field(default_factory=list)
    plots: dict[str, Callable[[Any], None]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c["passed"] for c in self.checks)


@dataclass(frozen=True)
class StudySpec:
    """An experiment comparing runs: ``run(frameworks, quick=False, progress=None) -> StudyResult``."""

    name: str
    description: str
    run: Callable[..., StudyResult]
    models: tuple[str, ...] = ()
    teaches: str = ""
    origin: str = ""
    order: int = 1000


class _Registry(Mapping):
    """An ordered, read-only view: iteration gives names (by ``order``, then registration)."""

    def __init__(self, kind: str, package: str):
        self.kind, self.package = kind, package
        self._items: dict[str, Any] = {}
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            pkg = importlib.import_module(self.package)
            for info in pkgutil.iter_modules(pkg.__path__):
                importlib.import_module(f"{self.package}.{info.name}")

    def add(self, spec) -> None:
        self._items[spec.name] = spec

    def remove(self, name: str) -> None:
        del self._items[self.get_checked(name).name]

    def __getitem__(self, name: str):
        self._load()
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        ordered = sorted(enumerate(self._items.values()), key=lambda pair: (pair[1].order, pair[0]))
        return iter([spec.name for _, spec in ordered])

    def __len__(self) -> int:
        self._load()
        return len(self._items)

    def __repr__(self) -> str:
        return f"{self.kind}s({', '.join(self)})"

    def get_checked(self, name) -> Any:
        if not isinstance(name, str) or name not in self:
            raise ValueError(f"unknown {self.kind} {name!r}; expected one of {', '.join(self)}")
        return self[name]


MODELS = _Registry("model", "triptych.models")
STUDIES = _Registry("study", "triptych.studies")


def register_model(spec: ModelSpec, scratch=None, torch=None, keras=None, replace: bool = False) -> ModelSpec:
    """Add ``spec`` to the registry; ``scratch``/``torch``/``keras`` are its implementation modules
    (module objects or dotted names; default ``scratch.<name>`` etc.).  A name already taken is a
    ValueError unless ``replace``.  Returns the registered spec."""
    if not isinstance(spec, ModelSpec):
        raise ValueError(f"register_model expects a ModelSpec, got {type(spec).__name__}")
    if not isinstance(spec.name, str):
        raise ValueError(f"model name must be a str (a Python identifier: it names files), got "
                         f"{type(spec.name).__name__} {spec.name!r}")
    if spec.task not in TASKS:
        raise ValueError(f"model {spec.name!r}: task must be one of {TASKS}, got {spec.task!r}")
    if not spec.name.isidentifier():
        raise ValueError(f"model name must be a Python identifier (it names files), got {spec.name!r}")
    if not isinstance(spec.arch, dict) or not isinstance(spec.rules, dict):
        raise ValueError(f"model {spec.name!r}: arch and rules must be dicts")
    stray = sorted(set(spec.rules) - set(spec.arch), key=str)
    if stray:  # a rule for a key no build receives would never be applied
        raise ValueError(f"model {spec.name!r}: rules for {', '.join(map(repr, stray))}, which are not architecture "
                         f"keys; expected some of {', '.join(sorted(spec.arch)) or '(none)'}")
    for what in ("input_shape", "layout", "flops", "rules"):
        values = spec.rules.values() if what == "rules" else [getattr(spec, what)]
        if not all(callable(v) for v in values):
            raise ValueError(f"model {spec.name!r}: {what} must be {'callables' if what == 'rules' else 'a callable'}")
    integer(1)(spec.name, "min_epochs", spec.min_epochs)  # a count ≥ 1, checked as an integer option is
    given = {k: v for k, v in {"scratch": scratch, "torch": torch, "keras": keras}.items() if v is not None}
    if given:
        spec = ModelSpec(**{**spec.__dict__, "modules": {**spec.modules, **given}})
    if spec.name in MODELS and not replace:
        raise ValueError(f"a model named {spec.name!r} is already registered (pass replace=True to replace it)")
    MODELS.add(spec)
    return spec


def unregister_model(name: str) -> None:
    """Remove a registered model (a plugin withdrawing what it added); an unknown name is a ValueError."""
    MODELS.remove(name)


def register_study(spec: StudySpec, replace: bool = False) -> StudySpec:
    """Add a study; ``triptych study NAME`` and the report then run it."""
    if not isinstance(spec, StudySpec):
        raise ValueError(f"register_study expects a StudySpec, got {type(spec).__name__}")
    if not isinstance(spec.name, str) or not spec.name:
        raise ValueError(f"study name must be a non-empty str, got {spec.name!r}")
    if not callable(spec.run):
        raise ValueError(f"study {spec.name!r}: run must be a callable run(frameworks, quick=False, progress=None) "
                         f"-> StudyResult, got {type(spec.run).__name__} {spec.run!r}")
    if spec.name in STUDIES and not replace:
        raise ValueError(f"a study named {spec.name!r} is already registered (pass replace=True to replace it)")
    STUDIES.add(spec)
    return spec


def get_spec(name: str) -> ModelSpec:
    return MODELS.get_checked(name)


def get_study(name: str) -> StudySpec:
    return STUDIES.get_checked(name)


def resolve(name: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Architecture config of ``name`` with ``overrides`` applied and checked against the spec's rules.

    Unknown keys and values outside a rule are a ValueError naming the model and the option."""
    from triptych.options import check_config

    spec = get_spec(name)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(spec.arch))
    if unknown:
        raise ValueError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"expected some of {', '.join(sorted(spec.arch))}")
    return check_config(spec, {**spec.arch, **overrides})


def load_plugin(path: str) -> ModuleType:
    """Import a user's Python file (or package directory) so that its ``register_model`` /
    ``register_study`` calls run: ``triptych --plugin examples/own_model parity logreg``."""
    import importlib.util
    import sys
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        target = target / "__init__.py"
    if not target.is_file():
        raise ValueError(f"plugin {path!r} is neither a Python file nor a package directory with __init__.py")
    key = str(target.resolve())
    if key in PRELOADED_PLUGINS:  # a child process given its parent's plugins loads each once
        return LOADED_PLUGINS[key]
    name = f"triptych_plugin_{target.parent.name if target.name == '__init__.py' else target.stem}"
    spec = importlib.util.spec_from_file_location(name, target, submodule_search_locations=(
        [str(target.parent)] if target.name == "__init__.py" else None))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    LOADED_PLUGINS[key] = module
    return module


LOADED_PLUGINS: dict[str, ModuleType] = {}  # resolved path → module: triptych.isolation's children load them too
PRELOADED_PLUGINS: set[str] = set()  # in such a child: the parent's, loaded before its function ran
