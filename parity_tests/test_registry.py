"""One place per model: the declarations are the only code in triptych/ and reports/ that names a model
or a study; every declaration is complete and consistent with its three implementations."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from triptych import MODELS, STUDIES, get_framework, get_spec, resolve
from triptych.canonical import layout, parameter_count
from triptych.cli import main

ROOT = Path(__file__).resolve().parents[1]
DECLARATIONS = (ROOT / "triptych" / "models", ROOT / "triptych" / "studies")


def _quoted(names, folders) -> list[str]:
    """Lines of the .py files under ``folders`` (outside the declarations) that quote one of ``names``."""
    pattern = re.compile(rf"""['"]({"|".join(map(re.escape, names))})['"]""")
    return [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
            for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))
            if not any(d in path.parents for d in DECLARATIONS)
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]


def test_nothing_outside_the_declarations_names_a_model_or_a_study():
    """No model name in triptych/ or reports/; no study name in reports/ (a study may share its name
    with an option, as weight_decay does with the optimizers' option)."""
    offenders = _quoted(list(MODELS), ("triptych", "reports")) + _quoted(list(STUDIES), ("reports",))
    assert not offenders, "\n".join(offenders)


def test_every_declared_model_has_its_three_files():
    for model in MODELS:
        for package in ("scratch", "torch_impl", "keras_impl"):
            assert (ROOT / package / f"{model}.py").is_file(), f"{package}/{model}.py"


@pytest.mark.parametrize("model", list(MODELS))
def test_declared_layout_matches_every_framework(model):
    """The canonical layout the declaration states is what each framework's get_weights returns,
    and the parameter count every framework's summary gives."""
    spec = get_spec(model)
    overrides = spec.parity.get("overrides", {})
    config = resolve(model, overrides)
    expected = {k: shape for k, (shape, _) in layout(model, config).items()}
    for name in ("scratch", "torch", "keras"):
        fw = get_framework(name)
        net = fw.build(model, **overrides)
        weights = fw.get_weights(net)
        assert list(weights) == list(expected), name
        assert {k: v.shape for k, v in weights.items()} == expected, name
        assert fw.parameter_count(net) == parameter_count(model, config), name
    assert spec.flops(config, spec.parity.get("seq_len")) > 0
    assert spec.task in ("binary", "regression", "classification", "reconstruction")
    assert spec.teaches and spec.origin, "the curriculum index needs both"


def test_models_come_in_curriculum_order():
    orders = [get_spec(m).order for m in MODELS]
    assert orders == sorted(orders)


def test_unknown_names_list_the_registered_ones():
    with pytest.raises(ValueError, match=r"unknown model 'nope'; expected one of xor, linreg"):
        get_spec("nope")
    with pytest.raises(ValueError, match=r"unknown study 'nope'; expected one of house"):
        from triptych import get_study
        get_study("nope")


def test_study_command_prints_the_table_and_checks(capsys):
    assert main(["study", "house", "--quick", "--framework", "scratch"]) == 0
    out = capsys.readouterr().out
    assert "2 hidden layers (13, 13)" in out and "ok   linear" in out


def test_option_rules_normalise_and_refuse():
    assert resolve("house_mlp", {"hidden": 13})["hidden"] == (13,)
    assert resolve("house_mlp", {"hidden": [8, np.int64(4)]})["hidden"] == (8, 4)
    with pytest.raises(ValueError, match=r"model 'house_mlp': option 'hidden' must be a tuple"):
        resolve("house_mlp", {"hidden": (0,)})
    with pytest.raises(ValueError, match=r"option 'activation' must be one of"):
        resolve("xor", {"activation": "bogus"})
