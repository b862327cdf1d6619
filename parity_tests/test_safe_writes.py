"""Nothing lost: every file is written to a temporary name and renamed into place, destinations are
checked before work starts, a report replaces its folder whole under a lock, Ctrl-C leaves earlier
outputs as they were, and a training run whose loss turns NaN/inf stops with exit status 2."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from triptych.cli import main
from triptych.data import linreg_data
from triptych.files import REPORT_MARKER, atomic_paths, check_writable, staged_directory
from triptych.frameworks import FRAMEWORKS, NonFiniteLoss, get_framework

ROOT = Path(__file__).resolve().parents[1]
EXT = {"scratch": ".npz", "torch": ".pt", "keras": ".weights.h5"}


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def read_only_dir(tmp_path):
    """A folder no file can be created in: chmod 555 for a normal user; /sys when running as root."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    try:
        (Path("/sys") / "triptych-probe").touch()
    except OSError:
        yield Path("/sys")
        return
    pytest.skip("no read-only folder available")


# ---------------------------------------------------------------- checkpoints


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), RuntimeError("unexpected pos 1792")],
                         ids=["disk-full", "torch-style"])
def test_a_failed_checkpoint_write_leaves_the_old_file(tmp_path, monkeypatch, fw, failure):
    net = fw.build("xor")
    path = tmp_path / f"w{EXT[fw.name]}"
    fw.save(net, str(path))
    before = _snapshot(tmp_path)
    real_save = type(fw)._save

    def half_written(self, net, target):  # the real writer, then a failure part way through
        real_save(self, net, target)
        with open(target, "r+b") as fh:
            fh.truncate(96)
        raise failure

    monkeypatch.setattr(type(fw), "_save", half_written)
    with pytest.raises(OSError, match="No space left|could not write checkpoint"):
        fw.save(net, str(path))
    assert _snapshot(tmp_path) == before  # the old file, byte for byte, and no temporary file left


@pytest.mark.slow
def test_a_full_disk_keeps_every_old_checkpoint(tmp_path):
    """A real failing write (a file-size limit stands in for a full disk), in a child process: h5py
    would crash the process writing .weights.h5 to disk; here every framework fails cleanly."""
    code = textwrap.dedent(f"""
        import os, resource, signal
        from triptych.frameworks import get_framework
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        for name, ext in {EXT!r}.items():
            fw = get_framework(name)
            net = fw.build("mnist_cnn", filters=(4, 8))
            path = os.path.join({str(tmp_path)!r}, "w" + ext)
            fw.save(net, path)
            size = os.path.getsize(path)
            resource.setrlimit(resource.RLIMIT_FSIZE, (2048, hard))
            try:
                fw.save(net, path)
                print(name, "NOT REFUSED")
            except OSError as exc:
                print(name, "refused", os.path.getsize(path) == size)
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[:3] == [f"{name} refused True" for name in EXT], out.stdout
    assert sorted(os.listdir(tmp_path)) == sorted(f"w{ext}" for ext in EXT.values())


def test_save_checks_the_name_and_the_folder_first(tmp_path, fw, read_only_dir):
    net = fw.build("xor")
    wrong = ".npz" if fw.name != "scratch" else ".pt"
    with pytest.raises(ValueError, match=rf"{fw.name} writes .* files, so the name must end in"):
        fw.save(net, str(tmp_path / f"w{wrong}"))
    with pytest.raises(ValueError, match=r"folder '.*missing' does not exist"):
        fw.save(net, str(tmp_path / "missing" / f"w{EXT[fw.name]}"))
    with pytest.raises(ValueError, match=r"cannot write into folder"):
        fw.save(net, str(read_only_dir / f"w{EXT[fw.name]}"))
    assert [p.name for p in tmp_path.iterdir() if p.name != "ro"] == []


def test_train_saves_every_framework_or_none(tmp_path, monkeypatch, capsys):
    """--save with {framework}{ext}: three files; when the last framework's write fails, none changes."""
    pattern = str(tmp_path / "xor_{framework}{ext}")
    assert main(["train", "xor", "--epochs", "2", "--save", pattern]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["xor_keras.weights.h5", "xor_scratch.npz", "xor_torch.pt"]
    before = _snapshot(tmp_path)
    keras_fw = get_framework("keras")

    def broken(self, net, path):
        Path(path).write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(keras_fw), "_save", broken)
    assert main(["train", "xor", "--epochs", "3", "--save", pattern]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before


def test_house_mlp_options_all_apply(tmp_path, capsys, scratch):
    """train house_mlp honours --save, --optimizer, --batch-size, --dtype and --epochs under 10: the
    saved scratch weights are those of the same run made through the API."""
    assert main(["train", "house_mlp", "--epochs", "3", "--optimizer", "adam", "--batch-size", "0", "--dtype",
                 "float64", "--save", str(tmp_path / "h_{framework}{ext}")]) == 0
    out = capsys.readouterr().out
    assert out.count("3 steps in") == 3  # full batch: one step per epoch
    from triptych.checkpoints import load_npz
    from triptych.data import boston_data

    saved, meta = load_npz(str(tmp_path / "h_scratch.npz"))
    X_train, X_test, y_train, y_test = boston_data()
    net = scratch.build("house_mlp", seed=20190501, dtype="float64")
    scratch.train(net, X_train, y_train, epochs=3, batch_size=None, optimizer="adam", X_val=X_test, y_val=y_test)
    expected = scratch.get_weights(net)
    assert meta["model"] == "house_mlp" and all(saved[k].dtype == np.float64 for k in saved)
    assert all(np.array_equal(saved[k], expected[k]) for k in expected)
    torch_net = get_framework("torch").build("house_mlp", dtype="float64")
    get_framework("torch").load(torch_net, str(tmp_path / "h_torch.pt"))
    assert all(np.allclose(v, expected[k], atol=1e-12) for k, v in get_framework("torch").get_weights(torch_net).items())


def test_int64_torch_checkpoint_is_refused_not_zeroed(tmp_path, torch_fw):
    import torch

    net = torch_fw.build("linreg")
    torch.save({k: (v * 100).long() for k, v in net.native.state_dict().items()}, tmp_path / "int.pt")
    before = torch_fw.get_weights(net)
    with pytest.raises(ValueError, match=r"'linear\.weight' has dtype torch\.int64; expected floating-point"):
        torch_fw.load(net, str(tmp_path / "int.pt"))
    assert all(np.array_equal(before[k], v) for k, v in torch_fw.get_weights(net).items())
    assert main(["convert", str(tmp_path / "int.pt"), str(tmp_path / "out.npz"), "--model", "linreg"]) == 2
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")  # Keras's own cast, before our check
def test_a_float64_checkpoint_beyond_float32_is_refused(tmp_path, scratch):
    weights = {**scratch.get_weights(scratch.build("xor")), "output.b": np.array([1e300])}
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net64 = fw.build("xor", dtype="float64")
        fw.set_weights(net64, weights)
        fw.save(net64, str(tmp_path / f"w{EXT[name]}"))
        net32 = fw.build("xor", dtype="float32")
        before = fw.get_weights(net32)
        with pytest.raises(ValueError, match=r"beyond float32's range"):
            fw.load(net32, str(tmp_path / f"w{EXT[name]}"))
        assert all(np.array_equal(before[k], v) for k, v in fw.get_weights(net32).items()), name


# ---------------------------------------------------------------- a report is swapped in whole


def test_report_replaces_its_folder_whole_and_a_failed_run_changes_nothing(tmp_path, monkeypatch, capsys):
    import reports.generate as generate

    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("previous run")
    (out / "results.json").write_text("{}")
    (out / "house_mlp_loss.png").write_bytes(b"stale")  # a model the new run does not have
    real_run, runs = generate.run_report, []
    monkeypatch.setattr(generate, "run_report", lambda *a, **k: runs.append(real_run(*a, **k)) or runs[-1])
    assert generate.main_report(out, quick=True, models=["linreg"], studies=[], progress=False, jobs=1) == 0
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "report.md", "results.csv", "results.json", "linreg_loss.png", REPORT_MARKER} <= names
    assert "house_mlp_loss.png" not in names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no staging folder, no lock left
    written = _snapshot(out)

    def fails_half_way(rows, path):
        Path(path).write_text("model,framework\nlinreg,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generate, "run_report", lambda *a, **k: runs[0])
    monkeypatch.setattr(generate, "write_csv", fails_half_way)
    with pytest.raises(OSError, match="No space left"):
        generate.main_report(out, quick=True, models=["linreg"], studies=[], progress=False, jobs=1)
    assert _snapshot(out) == written and sorted(p.name for p in tmp_path.iterdir()) == ["report"]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generate, "run_report", interrupted)
    assert main(["report", "--quick", "--models", "linreg", "--studies", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "interrupted" in err
    assert _snapshot(out) == written and sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_a_concurrent_report_into_the_same_folder_fails_at_once(tmp_path, capsys):
    out = tmp_path / "report"
    with staged_directory(out):  # another run holds the folder
        start = time.perf_counter()
        assert main(["report", "--quick", "--models", "xor", "--out", str(out)]) == 2
        assert time.perf_counter() - start < 10  # refused before any work
    out_text, err = capsys.readouterr()
    assert out_text == "" and f"process {os.getpid()}" in err and "another triptych run" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # the first run finished normally


def test_report_destination_checked_before_work(tmp_path, read_only_dir, capsys):
    for target, message in ((read_only_dir / "report", "cannot write into folder"),
                            (Path.cwd(), "is the current folder or one above it")):
        assert main(["report", "--quick", "--models", "xor", "--out", str(target)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and message in err and err.count("\n") == 1


def test_atomic_paths_replace_all_or_none(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    with pytest.raises(RuntimeError):
        with atomic_paths([a, b]) as (ta, tb):
            Path(ta).write_text("new a")
            Path(tb).write_text("new b")
            raise RuntimeError("after both were written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"] and a.read_text() == "old a"
    with atomic_paths([a, b]) as (ta, tb):
        Path(ta).write_text("new a")
        Path(tb).write_text("new b")
    assert a.read_text() == "new a" and b.read_text() == "new b" and len(list(tmp_path.iterdir())) == 2


def test_check_writable(tmp_path, read_only_dir):
    assert check_writable(tmp_path / "x.npz") == str(tmp_path / "x.npz")
    for path, message in ((tmp_path, "is a folder"), (tmp_path / "no" / "x.npz", "does not exist"),
                          (read_only_dir / "x.npz", "cannot write into folder")):
        with pytest.raises(ValueError, match=message):
            check_writable(path, "--save")
    assert [p.name for p in tmp_path.iterdir() if p.name != "ro"] == []  # the probe file is gone


# ---------------------------------------------------------------- Ctrl-C and divergence


def test_ctrl_c_prints_one_line_exits_130_and_keeps_the_old_checkpoint(tmp_path):
    """A real SIGINT while training (scratch only: no TensorFlow to import)."""
    ckpt = tmp_path / "x.npz"
    scratch = get_framework("scratch")
    scratch.save(scratch.build("xor"), str(ckpt))
    before = _snapshot(tmp_path)
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from triptych.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, "train", "xor", "--framework", "scratch", "--epochs",
                             "1000000", "--save", str(ckpt)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    while "epoch" not in line:  # training has started
        assert line, proc.stderr.read()
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "triptych: interrupted; files from earlier runs are as they were\n"
    assert _snapshot(tmp_path) == before


def test_a_non_finite_loss_stops_training_in_every_framework(capsys):
    X, y = linreg_data(100)
    start = get_framework("scratch").get_weights(get_framework("scratch").build("linreg"))
    messages = {}
    for name in FRAMEWORKS:
        fw = get_framework(name)
        net = fw.build("linreg", dtype="float64")
        fw.set_weights(net, start)
        progress = []
        with pytest.raises(NonFiniteLoss) as info:
            fw.train(net, X, y, epochs=50, batch_size=10, lr=1e3, progress=progress.append)
        messages[name] = str(info.value)
        assert len(progress) < 50 and all(np.isfinite(r["loss"]) for r in progress)  # no NaN epoch went by
    steps = {name: int(m.split(" at step ")[1].split(" ")[0]) for name, m in messages.items()}
    assert len(set(steps.values())) == 1, messages  # the same step everywhere, from the same weights
    for name, message in messages.items():
        assert message.startswith(f"linreg ({name}): training diverged: the loss is ")
        assert f"the last finite loss was " in message and f"at step {steps[name] - 1};" in message
    assert main(["train", "linreg", "--lr", "1e3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "linreg (scratch): training diverged" in err and "(epoch 1)" in err
