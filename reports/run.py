"""Running one model for the report: identical initial weights in every framework, training in
float32 on the same batches, test metrics, timings and the parity ladder.  Every failure is caught
and recorded with its traceback, so one broken model or framework never hides the others.
"""
from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from triptych.backends import KERAS_BACKENDS
from triptych.bench import run_bench, time_inference
from triptych.experiments import epochs_for, load_experiment
from triptych.frameworks import FRAMEWORKS
from triptych.parity import RungResult, run_ladder
from triptych.registry import StudyResult, get_spec, get_study, resolve
from triptych.runs import epoch_printer, initial_weights, train_and_evaluate
from triptych.settings import selected_kernel_set
from triptych.tolerances import ALL_RUNGS

TRAIN_DTYPE = "float32"  # what people train in; parity runs in float64 and float32
QUICK_DATA_EPOCHS = 2  # --quick: epochs of the models whose data set is large (those that take --data)
# On a model's default (embedded) data the report gives each framework's training run at most this much
# work — forward + backward ≈ 3 × the declared forward FLOPs per sample × samples × epochs — so that the
# default report holds every model in its time budget; only the heaviest models are capped (README: which,
# and what accuracy they keep).  `triptych train` and the accuracy tests keep the declared epochs.
DEFAULT_DATA_TRAINING_GFLOP = 250
INFER_REPEATS = 5  # inference time: the best of this many predict calls on the test set
# triptych bench settings, quick and full: a page's speed table (each figure the best of 3 epochs of `steps` steps after
# a warm-up epoch); `triptych bench` itself times 30-step epochs over 3 rounds
BENCH = {True: dict(steps=2, rounds=1), False: dict(steps=5, rounds=1)}
PICTURES = 8  # test digits a reconstruction model's page shows, original beside each framework's reconstruction
OTHER_KERAS_BACKENDS = KERAS_BACKENDS[1:]  # full reports: Keras on jax and torch too (keras[jax], keras[torch]), beside
# the first, TensorFlow, which the report's own process runs


@dataclass
class Failure:
    where: str  # "torch · training", "parity float64", …
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, where: str, exc: BaseException) -> "Failure":
        return cls(where, f"{type(exc).__name__}: {exc}",
                   "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


@dataclass
class FrameworkRun:
    """One framework's training run and its figures."""

    framework: str
    params: int
    losses: list[float]  # per-step training loss
    metrics: dict[str, float]  # test metrics (triptych.experiments.metrics)
    best_epoch: int | None
    train_seconds: float
    train_samples: int  # samples seen in training (rows × epochs)
    infer_seconds: float  # one predict call on the whole test set
    infer_samples: int
    reconstructions: list | None = None  # reconstruction task: the first PICTURES test images as this framework
    # reconstructs them (nested lists, (PICTURES, H, W)), drawn beside the originals

    @property
    def steps(self) -> int:
        return len(self.losses)

    @property
    def ms_per_step(self) -> float:
        return 1000 * self.train_seconds / self.steps

    @property
    def train_samples_per_s(self) -> float:
        return self.train_samples / self.train_seconds

    @property
    def infer_samples_per_s(self) -> float:
        return self.infer_samples / self.infer_seconds


@dataclass
class ModelReport:
    """Everything the report shows about one model."""

    model: str
    setup: dict  # epochs, batch_size, lr, optimizer, seed, dtype of the training runs
    source: str = ""
    runs: dict[str, FrameworkRun] = field(default_factory=dict)
    parity: list[RungResult] = field(default_factory=list)
    bench: list[dict] = field(default_factory=list)  # triptych.bench rows, one per framework
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per task: "torch", "parity float32", …
    originals: list | None = None  # reconstruction task: the first PICTURES test images (nested lists)

    @property
    def parity_failures(self) -> list[RungResult]:
        return [r for r in self.parity if r.passed is False]

    @property
    def parity_counts(self) -> tuple[int, int]:
        """(passed, checked): parity figures with a tolerance; float32 trajectories are only reported."""
        checked = [r for r in self.parity if r.passed is not None]
        return sum(r.passed for r in checked), len(checked)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.parity_failures

    def ratios_to_fastest(self, run: FrameworkRun) -> tuple[float, float]:
        """``run``'s training-step time and inference time over the fastest framework's (1.0 = fastest)."""
        runs = self.runs.values()
        return (run.ms_per_step / min(r.ms_per_step for r in runs),
                max(r.infer_samples_per_s for r in runs) / run.infer_samples_per_s)


class Progress:
    """Numbered progress lines: ``[3/15] mnist_cnn · torch: training epoch 2/12``.

    In a child process (reports.tasks) ``send`` is set: the lines go to the parent as records, and the
    parent's :meth:`relay` numbers them among every task's lines (each child's own thread calls it)."""

    def __init__(self, total: int, enabled: bool = True, send: Callable[[dict], None] | None = None):
        self.total, self.enabled, self.done, self.label, self.send = total, enabled, 0, "", send
        self.lock = threading.Lock()

    @classmethod
    def child(cls, send: Callable[[dict], None] | None) -> "Progress":
        """The progress of a task in a child process: silent when the parent's is (``send`` None)."""
        return cls(0, send is not None, send)

    def start(self, label: str, what: str) -> None:
        if self.send:
            self.label = label
            self.send({"start": label, "what": what})
            return
        with self.lock:
            self.done += 1
            self.label = label
            self._print(label, what)

    def skip(self, count: int) -> None:
        if self.send:
            self.send({"skip": count})
            return
        with self.lock:
            self.done += count

    def say(self, what: str, label: str | None = None) -> None:
        if self.send:
            self.send({"label": self.label, "say": what})
            return
        with self.lock:
            self._print(self.label if label is None else label, what)

    def relay(self, record: dict) -> None:
        """A child's record, printed here with this process's numbering."""
        if "start" in record:
            self.start(record["start"], record["what"])
        elif "skip" in record:
            self.skip(record["skip"])
        else:
            self.say(record["say"], record["label"])

    def _print(self, label: str, what: str) -> None:
        if self.enabled:
            print(f"[{self.done}/{self.total}] {label}: {what}", flush=True)

    def epochs(self, epochs: int):
        """A ``progress`` callback for ``train`` that says about ten epoch lines (triptych.runs.epoch_printer)."""
        return epoch_printer(epochs, self.say)


FLOAT32_RUNGS = (1, 2, 3, 4)  # the float32 checks with a tolerance; its trajectory (rung 5) only drifts, and
# costs as much as the whole float64 ladder: `triptych parity --dtype float32` reports it


def parity_plan(quick: bool) -> list[tuple[str, tuple[int, ...]]]:
    """(dtype, rungs) ladders to run: float64 all rungs; float32 rungs 1–3 when quick, else 1–4."""
    return [("float64", ALL_RUNGS), ("float32", (1, 2, 3) if quick else FLOAT32_RUNGS)]


def task_count(model: str, quick: bool) -> int:
    """Progress steps for one model: one per framework and one per parity ladder."""
    return len(FRAMEWORKS) + len(parity_plan(quick))


def data_for(model: str, data: str | None) -> str | None:
    """The report's ``--data`` (sample | full | DIR) as ``model`` should see it: only sources with named
    variants (a ``default_data``, like MNIST's sample) get it; the others use their default data."""
    return data if get_spec(model).data.default_data is not None else None


def training_setup(model: str, quick: bool, data: str | None, exp=None) -> dict:
    """The spec's training hyperparameters; big data sets' epochs capped when quick, full_epochs on full data;
    with the experiment ``exp`` loaded, epochs on the default data capped by DEFAULT_DATA_TRAINING_GFLOP but never
    below the spec's ``min_epochs`` (``declared_epochs`` then says what the declaration asks for)."""
    spec = get_spec(model)
    epochs = epochs_for(model, data_for(model, data), quick, QUICK_DATA_EPOCHS)
    setup = {"epochs": epochs, **{k: spec.training[k] for k in ("batch_size", "lr", "optimizer", "seed")},
             "dtype": TRAIN_DTYPE}
    if exp is not None and not quick and data_for(model, data) in (None, spec.data.default_data):
        per_epoch = 3 * spec.flops(resolve(model, exp.overrides), None) * len(exp.X_train)
        budget = max(spec.min_epochs, int(DEFAULT_DATA_TRAINING_GFLOP * 1e9 // per_epoch))
        if budget < epochs:
            setup.update(epochs=budget, declared_epochs=epochs)
    return setup


def run_model(model: str, quick: bool, data: str | None, progress: Progress) -> ModelReport:
    """Train ``model`` in every framework from scratch's initial weights, then run its parity ladders."""
    start = time.perf_counter()
    report = ModelReport(model, training_setup(model, quick, data))
    try:
        exp = load_experiment(model, data_for(model, data), quick=quick, seed=0)
        report.source, report.setup = exp.source, training_setup(model, quick, data, exp)
        if get_spec(model).task == "reconstruction":
            report.originals = exp.X_test[:PICTURES].tolist()
        weights = initial_weights("scratch", exp, seed=report.setup["seed"], dtype=TRAIN_DTYPE)
    except Exception as exc:  # noqa: BLE001 — reported on the page
        report.failures.append(Failure.from_exception("data and initial weights", exc))
        progress.skip(len(FRAMEWORKS))
    else:
        for name in FRAMEWORKS:
            progress.start(f"{model} · {name}", "building from scratch's initial weights")
            task = time.perf_counter()
            try:
                report.runs[name] = train_framework(name, exp, weights, report.setup, progress)
            except Exception as exc:  # noqa: BLE001
                report.failures.append(Failure.from_exception(f"{name} · training", exc))
                progress.say(f"FAILED: {exc}")
            report.timings[name] = time.perf_counter() - task
        task = time.perf_counter()
        progress.say("timing a training step through the API and in plain loops (triptych bench)")
        try:
            report.bench = run_bench([model], frameworks=list(report.runs), progress=None,
                                     scratch_kernels=(selected_kernel_set(),), **BENCH[quick])
        except Exception as exc:  # noqa: BLE001
            report.failures.append(Failure.from_exception("bench", exc))
            progress.say(f"FAILED: {exc}")
        report.timings["bench"] = time.perf_counter() - task
    for dtype, rungs in parity_plan(quick):
        progress.start(f"{model} · parity {dtype}", f"rungs {', '.join(map(str, rungs))}")
        task = time.perf_counter()
        try:
            report.parity += run_ladder(model, dtype, rungs=rungs)
        except Exception as exc:  # noqa: BLE001
            report.failures.append(Failure.from_exception(f"parity {dtype}", exc))
            progress.say(f"FAILED: {exc}")
        report.timings[f"parity {dtype}"] = time.perf_counter() - task
    report.seconds = time.perf_counter() - start
    return report


def add_backend_parity(reports: list["ModelReport"], label: str, results: list[RungResult] | BaseException) -> None:
    """The float64 ladders with Keras on another backend (``label``, e.g. keras[jax]; triptych.backends runs them
    in a child process, every model at once): their rows join each model's parity table; a backend that failed
    is recorded as a failure of every model."""
    for report in reports:
        if isinstance(results, BaseException):
            report.failures.append(Failure.from_exception(f"parity float64 · {label}", results))
        else:
            report.parity += [r for r in results if r.model == report.model and label in r.pair.split("↔")]


def model_in_child(model: str, quick: bool, data: str | None,
                   progress: Callable[[dict], None] | None = None) -> ModelReport:
    """:func:`run_model` as a task of reports.tasks, in a child process (which loads the parent's plugins
    first: triptych.isolation)."""
    return run_model(model, quick, data, Progress.child(progress))


def study_in_child(name: str, quick: bool, progress: Callable[[dict], None] | None = None) -> "StudyReport":
    """:func:`run_study` as a task of reports.tasks, in a child process (which loads the parent's plugins)."""
    return run_study(name, quick, Progress.child(progress))


def heaviest_first(models: list[str], quick: bool, data: str | None) -> list[str]:
    """``models`` by their training work (forward FLOPs × epochs), largest first, so that parallel tasks end
    together rather than one long task last."""
    def work(model: str) -> float:
        spec = get_spec(model)
        return spec.flops(resolve(model, {}), None) * epochs_for(model, data_for(model, data), quick, QUICK_DATA_EPOCHS)
    return sorted(models, key=work, reverse=True)


def train_framework(name: str, exp, weights: dict, setup: dict, progress: Progress) -> FrameworkRun:
    """Build in ``name``, load ``weights``, train on the shared batches and test (triptych.runs), then time
    inference."""
    run = train_and_evaluate(name, exp, weights, seed=setup["seed"], dtype=TRAIN_DTYPE,
                             progress=progress.epochs(setup["epochs"]),
                             **{k: setup[k] for k in ("epochs", "batch_size", "lr", "optimizer")})
    infer_seconds = time_inference(run.fw, run.net, exp.X_test, INFER_REPEATS)
    pictures = (run.fw.predict(run.net, exp.X_test[:PICTURES]).tolist()
                if get_spec(exp.model).task == "reconstruction" else None)
    return FrameworkRun(name, run.fw.parameter_count(run.net), [float(v) for v in run.history["loss"]],
                        run.metrics, run.history.get("best_epoch"), run.history["seconds"],
                        len(exp.X_train) * setup["epochs"], infer_seconds, len(exp.X_test), pictures)


@dataclass
class StudyReport:
    """One study's result for the report, or the failure that stopped it."""

    study: str
    result: StudyResult | None = None
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and self.result is not None and self.result.ok


def run_study(name: str, quick: bool, progress: Progress) -> StudyReport:
    """Run study ``name`` in every framework; a failure is recorded, never raised."""
    start = time.perf_counter()
    report = StudyReport(name)
    progress.start(f"study {name}", get_study(name).description)
    try:
        report.result = get_study(name).run(FRAMEWORKS, quick=quick, progress=progress.say if progress.enabled else None)
    except Exception as exc:  # noqa: BLE001 — reported on the page
        report.failures.append(Failure.from_exception(f"study {name}", exc))
        progress.say(f"FAILED: {exc}")
    report.seconds = time.perf_counter() - start
    return report
