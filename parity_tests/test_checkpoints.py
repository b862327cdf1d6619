"""Native checkpoints (torch state_dict, Keras .weights.h5, canonical .npz) and `triptych convert`."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from triptych.cli import main
from triptych.frameworks import get_framework
from triptych.parity import parity_weights
from triptych.registry import MODELS

EXT = {"scratch": "npz", "torch": "pt", "keras": "weights.h5"}


@pytest.mark.parametrize("model", MODELS)
def test_convert_between_every_pair_is_exact(tmp_path, model, capsys):
    overrides = MODELS[model].parity.get("overrides", {})
    sets = [f"--set={k}={','.join(map(str, v)) if isinstance(v, tuple) else v}" for k, v in overrides.items()]
    scratch = get_framework("scratch")
    weights = parity_weights(scratch, scratch.build(model, **overrides), seed=9)
    for src, dst in itertools.permutations(["scratch", "torch", "keras"], 2):
        fw = get_framework(src)
        net = fw.build(model, **overrides)
        fw.set_weights(net, weights)
        src_path, dst_path = tmp_path / f"{src}-{dst}.{EXT[src]}", tmp_path / f"{dst}-{src}.{EXT[dst]}"
        fw.save(net, str(src_path))
        assert main(["convert", str(src_path), str(dst_path), "--model", model, *sets]) == 0
        target = get_framework(dst)
        out = target.build(model, **overrides)
        target.load(out, str(dst_path))
        got = target.get_weights(out)
        for key, value in weights.items():
            assert np.array_equal(got[key], value), (src, dst, key)


def test_npz_remembers_its_model(tmp_path, scratch):
    net = scratch.build("linreg", in_features=4)
    scratch.save(net, str(tmp_path / "w.npz"))
    assert main(["convert", str(tmp_path / "w.npz"), str(tmp_path / "w.pt")]) == 0


@pytest.mark.parametrize("framework", ["scratch", "torch", "keras"])
def test_corrupt_checkpoint_is_a_clear_error(tmp_path, framework):
    fw = get_framework(framework)
    net = fw.build("xor")
    path = tmp_path / f"broken.{EXT[framework]}"
    fw.save(net, str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # truncated
    before = fw.get_weights(net)
    with pytest.raises(ValueError, match="broken"):
        fw.load(net, str(path))
    after = fw.get_weights(net)
    assert all(np.array_equal(before[k], after[k]) for k in before)
    with pytest.raises(ValueError, match="does not exist"):
        fw.load(net, str(tmp_path / f"missing.{EXT[framework]}"))


def test_checkpoint_of_another_model_is_refused(tmp_path, torch_fw, scratch):
    torch_fw.save(torch_fw.build("linreg"), str(tmp_path / "lin.pt"))
    with pytest.raises(ValueError, match="do not match"):
        torch_fw.load(torch_fw.build("xor"), str(tmp_path / "lin.pt"))
    scratch.save(scratch.build("linreg"), str(tmp_path / "lin.npz"))
    with pytest.raises(ValueError, match="holds model 'linreg', not 'xor'"):
        scratch.load(scratch.build("xor"), str(tmp_path / "lin.npz"))


def test_npz_with_pickled_object_is_refused(tmp_path, scratch):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"hidden1.W": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="evil.npz"):
        scratch.load(scratch.build("xor"), str(path))


def test_convert_errors_exit_2(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "a.bin"), str(tmp_path / "b.pt"), "--model", "xor"]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    (tmp_path / "x.pt").write_bytes(b"not a checkpoint")
    assert main(["convert", str(tmp_path / "x.pt"), str(tmp_path / "y.npz"), "--model", "xor"]) == 2
    assert "x.pt" in capsys.readouterr().err
