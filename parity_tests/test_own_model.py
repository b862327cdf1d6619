"""Bring your own model: examples/own_model (logistic regression written three ways outside the core)
registers through the public API and passes the whole ladder; a broken copy of it fails the ladder."""
from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from triptych import MODELS, ModelSpec, get_framework, load_plugin, register_model
from triptych.cli import main
from triptych.parity import run_ladder

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "own_model"


def test_the_readme_command_runs_the_whole_ladder_on_the_example(registry_snapshot):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--plugin", str(EXAMPLE), "parity", "logreg"])
    table = out.getvalue()
    assert code == 0, table
    for pair in ("scratch↔torch", "scratch↔keras", "torch↔keras"):
        assert sum(f"{pair} " in line and line.rstrip().endswith("ok") for line in table.splitlines()) == 5
    assert "6 finite differences   scratch↔FD" in table


def test_a_broken_conversion_in_a_copy_of_the_example_is_caught(tmp_path, registry_snapshot):
    """The copy's torch conversion reads the weights in reverse feature order (a realistic bug: the
    kernel's rows permuted); every rung that compares torch fails, the scratch↔keras rungs still pass."""
    copy = tmp_path / "broken_model"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    init = copy / "__init__.py"
    init.write_text(init.read_text().replace('name="logreg"', 'name="logreg_broken"'))
    torch_file = copy / "torch_logreg.py"
    source = torch_file.read_text()
    good = '{"logit.weight": weights["logit.W"].T.contiguous()'
    assert good in source
    torch_file.write_text(source.replace(good, '{"logit.weight": weights["logit.W"].flip(0).T.contiguous()'))
    load_plugin(str(copy))
    results = run_ladder("logreg_broken", "float64", rungs=(1, 2, 3, 4))
    verdicts = {(r.rung, r.pair): r.passed for r in results}
    for rung in (1, 2, 3, 4):
        assert verdicts[(rung, "scratch↔torch")] is False and verdicts[(rung, "torch↔keras")] is False, rung
        assert verdicts[(rung, "scratch↔keras")] is True, rung


def test_register_model_refuses_a_taken_name_and_a_bad_spec(registry_snapshot):
    spec = MODELS["xor"]
    with pytest.raises(ValueError, match="already registered"):
        register_model(spec)
    with pytest.raises(ValueError, match="expects a ModelSpec"):
        register_model({"name": "dict"})
    with pytest.raises(ValueError, match="task must be one of"):
        register_model(ModelSpec(**{**spec.__dict__, "name": "odd", "task": "ranking"}))


def test_a_plugin_model_is_usable_through_every_framework_and_the_cli(registry_snapshot, capsys):
    load_plugin(str(EXAMPLE))
    assert "logreg" in MODELS
    for name in ("scratch", "torch", "keras"):
        fw = get_framework(name)
        assert fw.parameter_count(fw.build("logreg")) == 31
    assert main(["--plugin", str(EXAMPLE), "summary", "logreg", "--framework", "scratch"]) == 0
    assert "`logit.W` | (30, 1)" in capsys.readouterr().out


def test_a_plugin_that_fails_to_load_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('my model file is broken')\n")
    assert main(["--plugin", str(bad), "parity"]) == 2
    assert "cannot load plugin: RuntimeError: my model file is broken" in capsys.readouterr().err
    assert main(["--plugin", str(tmp_path / "missing.py"), "parity"]) == 2
