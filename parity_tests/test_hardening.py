"""Hostile input, round three: a user's model checked as strictly as a built-in, checkpoints that name their
model and keep their dtype, and options that cannot be honoured refused, never quietly changed.  Every case
is one clear error (exit 2, one line naming what was wrong and what was expected), or done exactly as asked."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from triptych import MODELS, ModelSpec, get_framework, load_plugin, register_model
from triptych.cli import main
from triptych.registry import STUDIES, StudySpec, register_study

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "own_model"
CLI = [sys.executable, "-c", "import sys; from triptych.cli import main; sys.exit(main())"]


def error_of(capsys, argv) -> str:
    """Run the CLI; it must refuse with status 2 and one line on stderr (no traceback); that line."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- checkpoints


def test_a_checkpoint_is_refused_for_another_model_naming_both(tmp_path, capsys, scratch):
    scratch.save(scratch.build("softmax_reg"), str(tmp_path / "sm.npz"))
    err = error_of(capsys, ["convert", str(tmp_path / "sm.npz"), str(tmp_path / "x.pt"), "--model", "mnist_mlp"])
    assert "holds model 'softmax_reg', not 'mnist_mlp'" in err, err
    with pytest.raises(ValueError, match="holds model 'softmax_reg', not 'mnist_mlp'"):
        scratch.load(scratch.build("mnist_mlp"), str(tmp_path / "sm.npz"))
    assert not (tmp_path / "x.pt").exists()


def test_an_unknown_set_key_is_refused_naming_the_valid_ones(tmp_path, capsys, scratch):
    scratch.save(scratch.build("xor"), str(tmp_path / "x.npz"))
    err = error_of(capsys, ["convert", str(tmp_path / "x.npz"), str(tmp_path / "x.pt"), "--set", "unitz=8"])
    assert "no option 'unitz'" in err and "hidden" in err, err
    err = error_of(capsys, ["summary", "xor", "--framework", "scratch", "--set", "unitz=8"])
    assert "no option 'unitz'" in err and "hidden" in err, err


def test_convert_keeps_the_float32_of_a_pt_and_says_so(tmp_path, capsys, torch_fw, keras_fw):
    torch_fw.save(torch_fw.build("xor", dtype="float32"), str(tmp_path / "x.pt"))
    assert main(["convert", str(tmp_path / "x.pt"), str(tmp_path / "x.weights.h5"), "--model", "xor"]) == 0
    assert "float32 kept" in capsys.readouterr().out
    net = keras_fw.build("xor", dtype="float32")
    keras_fw.load(net, str(tmp_path / "x.weights.h5"))
    import h5py

    with h5py.File(tmp_path / "x.weights.h5") as f:
        kinds = set()
        f.visititems(lambda n, item: kinds.add(str(item.dtype)) if isinstance(item, h5py.Dataset) else None)
    assert kinds == {"float32"}, kinds
    assert main(["convert", str(tmp_path / "x.pt"), str(tmp_path / "y.npz"), "--model", "xor", "--dtype",
                 "float64"]) == 0
    assert "float32 → float64 (--dtype)" in capsys.readouterr().out
    assert np.load(tmp_path / "y.npz")["output.b"].dtype == np.float64


def _edited_h5(tmp_path, keras_fw, edit) -> str:
    import h5py

    path = str(tmp_path / "x.weights.h5")
    keras_fw.save(keras_fw.build("xor"), path)
    with h5py.File(path, "r+") as f:
        names = []
        f.visititems(lambda n, item: names.append(n) if isinstance(item, h5py.Dataset) else None)
        edit(f, names)
    return path


def test_a_weights_h5_with_an_extra_variable_or_an_integer_bias_is_refused(tmp_path, keras_fw):
    def extra(f, names):
        group = names[-1].rpartition("/")[0]
        f[f"{group}/9"] = np.zeros(3)

    def integer_bias(f, names):
        bias = next(n for n in names if f[n].ndim == 1)
        values = np.rint(f[bias][()]).astype(np.int64)
        del f[bias]
        f[bias] = values

    for edit, message in ((extra, "an extra variable"), (integer_bias, "not floating point")):
        path = _edited_h5(tmp_path, keras_fw, edit)
        net = keras_fw.build("xor")
        before = keras_fw.get_weights(net)
        with pytest.raises(ValueError, match=message):
            keras_fw.load(net, path)
        assert all(np.array_equal(v, keras_fw.get_weights(net)[k]) for k, v in before.items())


def test_two_writers_of_one_save_path_never_both_succeed(tmp_path, capsys):
    """The second run finds the first's lock on the file and fails at once, clearly (the lock is held for the
    whole run, so a run that trained for an hour cannot be overwritten by one that started later)."""
    from triptych.files import file_locks

    target = str(tmp_path / "same.npz")
    with file_locks([target]):
        err = error_of(capsys, ["train", "xor", "--framework", "scratch", "--epochs", "1", "--save", target])
    assert "is being written by another triptych run" in err and "same.npz" in err, err
    assert not Path(target).exists()
    assert main(["train", "xor", "--framework", "scratch", "--epochs", "1", "--save", target]) == 0
    assert Path(target).exists() and not list(tmp_path.glob(".*.lock"))


# ---------------------------------------------------------------- options


def test_a_repeated_single_option_is_refused(capsys):
    err = error_of(capsys, ["train", "xor", "--keras-backend", "jax", "--keras-backend", "torch"])
    assert "--keras-backend given twice" in err, err
    err = error_of(capsys, ["parity", "xor", "--frameworks", "scratch", "--frameworks", "torch"])
    assert "--frameworks given twice" in err, err


@pytest.mark.parametrize("argv, shown", [
    (["parity", "xor", "xor"], "xor given twice in models"),
    (["parity", "xor", "--frameworks", "scratch", "scratch"], "scratch given twice in --frameworks"),
    (["report", "--models", "xor", "xor"], "xor given twice in --models"),
    (["report", "--studies", "house", "house"], "house given twice in --studies"),
])
def test_a_name_given_twice_is_refused(capsys, tmp_path, argv, shown):
    if argv[0] == "report":
        if argv[2] not in (*MODELS, *STUDIES):
            pytest.skip(f"no {argv[2]} here")
        argv = [*argv, "--out", str(tmp_path / "report")]
    assert shown in error_of(capsys, argv)
    assert not (tmp_path / "report").exists()


def test_a_cpu_device_index_is_refused():
    out = subprocess.run([*CLI, "parity", "xor", "--frameworks", "scratch", "torch"], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "TRIPTYCH_TORCH_DEVICE": "cpu:5"})
    assert out.returncode == 2 and "TRIPTYCH_TORCH_DEVICE='cpu:5': torch has one CPU device" in out.stderr, out.stderr


def test_more_threads_than_cpus_is_refused(capsys):
    err = error_of(capsys, ["bench", "xor", "--threads", "100000"])
    assert f"this machine has {os.cpu_count()} CPU(s)" in err, err
    assert "expected an integer ≥ 1" in error_of(capsys, ["bench", "xor", "--threads", "0"])


def test_a_symlink_loop_as_out_is_one_clear_error(tmp_path):
    from triptych.files import staged_directory

    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(ValueError, match="symbolic link loop"):
        with staged_directory(loop / "report"):
            pass


# ---------------------------------------------------------------- plugins and register_model


def test_a_plugin_calling_sys_exit_is_a_plugin_error(tmp_path, capsys):
    plugin = tmp_path / "quits.py"
    plugin.write_text("import sys\nsys.exit(0)\n")
    err = error_of(capsys, ["--plugin", str(plugin), "parity", "xor"])
    assert "cannot load plugin" in err and "sys.exit(0)" in err, err


def _spec(**changes) -> ModelSpec:
    load_plugin(str(EXAMPLE))
    return dataclasses.replace(MODELS["logreg"], **changes)


def test_register_model_and_register_study_refuse_bad_declarations(registry_snapshot):
    with pytest.raises(ValueError, match="model name must be a str.*int 123"):
        register_model(_spec(name=123))
    with pytest.raises(ValueError, match="rules for 'unitz', which are not architecture keys; expected some of "
                                         "in_features"):
        register_model(_spec(name="logreg2", rules={"unitz": lambda *a: None}))
    with pytest.raises(ValueError, match="model 'logreg3': option 'min_epochs' must be an integer ≥ 1, got 0"):
        register_model(_spec(name="logreg3", min_epochs=0))
    with pytest.raises(ValueError, match="study 'go_study': run must be a callable"):
        register_study(StudySpec(name="go_study", description="", run="go"))


def test_a_study_returning_none_is_a_clear_error(registry_snapshot, capsys):
    register_study(StudySpec(name="nothing", description="returns nothing", run=lambda *a, **k: None))
    import triptych.cli as cli

    parser = cli.build_parser()
    args = parser.parse_args(["study", "nothing", "--framework", "scratch"])
    with pytest.raises(ValueError, match="study 'nothing': run\\(\\) returned NoneType; expected a StudyResult"):
        args.func(args)


def test_missing_modules_and_hooks_are_named(registry_snapshot, tmp_path):
    import types

    no_hook = types.ModuleType("torch_no_hook")
    no_hook.build = no_hook.from_canonical = no_hook.loss = no_hook.train = lambda *a: None
    register_model(_spec(name="hookless", modules={}), scratch=MODELS["logreg"].modules["scratch"], torch=no_hook,
                   keras="no_such_package_h25.keras_logreg")
    with pytest.raises(ValueError, match="model 'hookless': its torch module 'torch_no_hook' lacks to_canonical\\(\\)"):
        get_framework("torch").build("hookless")
    with pytest.raises(ValueError, match="model 'hookless': its keras implementation module "
                                         "'no_such_package_h25.keras_logreg' does not exist"):
        get_framework("keras").build("hookless")


def test_a_layout_that_disagrees_with_the_build_is_refused_at_build(registry_snapshot, tmp_path, capsys):
    """The spec says logit.W is (30, 2), the scratch file builds (30, 1): refused at build, naming the model,
    the framework, the entry and both shapes; no training, no checkpoint."""
    base = _spec()
    wide = lambda config: {"logit.W": ((config["in_features"], 2), "w"), "logit.b": ((1,), "b")}  # noqa: E731
    register_model(dataclasses.replace(base, name="wrong_layout", layout=wide))
    with pytest.raises(ValueError, match=r"model 'wrong_layout' \(scratch\): weight 'logit.W' is built with shape "
                                         r"\(30, 1\), but the layout declares \(30, 2\)"):
        get_framework("scratch").build("wrong_layout")
    save = tmp_path / "w.npz"
    err = error_of(capsys, ["train", "wrong_layout", "--framework", "scratch", "--save", str(save)])
    assert "'logit.W' is built with shape (30, 1)" in err and not save.exists(), err


def test_data_parallel_children_load_the_parents_plugin():
    out = subprocess.run([*CLI, "--plugin", str(EXAMPLE), "train", "logreg", "--framework", "torch", "--replicas",
                          "2", "--epochs", "1", "--batch-size", "0"], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "[torch] data-parallel on 2 replicas" in out.stdout and "test" in out.stdout, out.stdout


def test_report_data_no_selected_model_takes_is_refused(capsys, tmp_path):
    out = tmp_path / "report"
    err = error_of(capsys, ["report", "--models", "xor", "--studies", "--data", "bogus", "--out", str(out)])
    assert "--data 'bogus': none of the selected models (xor) takes --data" in err and not out.exists(), err
