"""A mutation audit: plant one single-point bug at a time in scratch/, the conversions and triptych/, run
the tests that cover that code, and count the bugs the tests catch.

    PYTHONPATH=. python tools/mutation_audit.py [--only ID] [--list]

Each mutant replaces one snippet (which must occur exactly once) and is always restored, even on
Ctrl-C.  Run it on a clean tree and nothing else at the same time: the tests import the mutated file.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# each mutant's tests: groups of pytest arguments, one run each (a -k applies to every file of its run)
T_SAMPLER = [["parity_tests/test_shared_code.py", "-k", "sampler"], ["parity_tests/test_optimizers.py"]]
T_INPUTS = [["parity_tests/test_bad_input.py", "-k", "inputs"], ["parity_tests/test_shared_code.py", "-k", "binary"]]
T_PARITY = [["parity_tests/test_shared_code.py", "-k", "parity or nan or ladder"], ["parity_tests/test_parity_ladder.py"]]
T_WEIGHTS = [["parity_tests/test_bad_input.py", "-k", "weights"], ["parity_tests/test_safe_writes.py"]]
T_OPTIONS = [["parity_tests/test_bad_input.py", "-k", "train or build"]]
T_FILES = [["parity_tests/test_safe_writes.py"]]
T_OPTIM = [["parity_tests/test_optimizers.py"]]
T_DENSE = [["parity_tests/test_conventions_dense.py"], ["parity_tests/test_shared_code.py", "-k", "bce or relu"],
           ["parity_tests/test_parity_ladder.py", "-k", "xor or linreg or house"]]
T_CNN = [["parity_tests/test_cnn_layers.py"], ["parity_tests/test_shared_code.py", "-k", "relu or max_pool"],
         ["parity_tests/test_parity_ladder.py", "-k", "mnist_cnn"]]
T_LSTM = [["parity_tests/test_lstm_layer.py"], ["parity_tests/test_parity_ladder.py", "-k", "lstm"]]
T_MEASURER = [["parity_tests/test_measurer.py"]]
T_CONVERT = [["parity_tests/test_shared_code.py", "parity_tests/test_checkpoints.py", "parity_tests/test_cnn_layers.py"]]

# (id, file, snippet, replacement, pytest arguments)
MUTANTS = [
    ("sampler-same-order-every-epoch", "triptych/batching.py", "np.random.default_rng([seed, epoch])",
     "np.random.default_rng(seed)", T_SAMPLER),
    ("sampler-full-batch-boundary", "triptych/batching.py", "batch_size >= n:", "batch_size > n:", T_SAMPLER),
    ("binary-check-upper-bound-off", "triptych/validate.py", "(arr.min() < 0 or arr.max() > 1)", "(arr.min() < 0)", T_INPUTS),
    ("X-finite-check-off", "triptych/validate.py", "    if not np.all(np.isfinite(arr)):\n        bad",
     "    if False:\n        bad", T_INPUTS),
    ("label-range-off-by-one", "triptych/validate.py", "arr.max() >= classes", "arr.max() > classes", T_INPUTS),
    ("parity-python-max-skips-nan", "triptych/parity.py", "max(values, key=lambda k: (math.isnan(values[k]), values[k]))",
     "max(values, key=values.get)", T_PARITY),
    ("parity-broadcasts-shapes", "triptych/parity.py", "if a.shape != b.shape:", "if False:", T_PARITY),
    ("parity-tolerance-x10", "triptych/parity.py", "else bool(value <= tol)", "else bool(value <= 10 * tol)", T_PARITY),
    ("float32-range-check-off", "triptych/canonical.py", "            if not np.all(np.isfinite(cast)):",
     "            if False:", T_WEIGHTS),
    ("weight-shape-check-by-size", "triptych/canonical.py", "if value.shape != shape:",
     "if value.size != np.prod(shape):", T_WEIGHTS),
    ("momentum-1-accepted", "triptych/options.py", "return real(0.0, 1.0, high_open=not include_one)",
     "return real(0.0, 1.0, high_open=False)", T_OPTIONS),
    ("nesterov-without-momentum", "triptych/options.py", 'if options.get("nesterov") and not options.get("momentum"):',
     "if False:", T_OPTIONS),
    ("options-accept-inf", "triptych/options.py", "ok = _is_real(value) and math.isfinite(value) \\",
     "ok = _is_real(value) \\", T_OPTIONS),
    ("divergence-misses-inf", "triptych/frameworks.py", "if not np.isfinite(loss):", "if np.isnan(loss):",
     [["parity_tests/test_safe_writes.py", "-k", "non_finite"]]),
    ("csv-mixed-row-is-a-header", "triptych/data.py", "if not numeric[0].any():  # a header of names",
     "if not numeric[0].all():  # a header of names", [["parity_tests/test_bad_input.py", "-k", "csv"]]),
    ("boston-std-from-all-rows", "triptych/data.py", "X[train].mean(axis=0), X[train].std(axis=0)",
     "X[train].mean(axis=0), X.std(axis=0)", [["parity_tests/test_house_mlp.py"]]),
    ("idx-zero-images-accepted", "triptych/mnist.py", "    if dims[0] == 0:", "    if False:",
     [["parity_tests/test_bad_input.py", "-k", "idx"], ["parity_tests/test_mnist_data.py"]]),
    ("write-in-place-not-atomic", "triptych/files.py", 'return path.with_name(f".tmp-{secrets.token_hex(4)}-{path.name}")',
     "return path", T_FILES),
    ("report-not-swapped", "triptych/files.py", "                if out.exists():\n                    os.rename(out, old)",
     "                if False:\n                    os.rename(out, old)", T_FILES),
    ("report-lock-shared", "triptych/files.py", "fcntl.LOCK_EX | fcntl.LOCK_NB", "fcntl.LOCK_SH | fcntl.LOCK_NB", T_FILES),
    ("sgd-nesterov-formula", "scratch/optimizers.py", "grad = grad + self.momentum * buf if self.nesterov else buf",
     "grad = buf + self.momentum * grad if self.nesterov else buf", T_OPTIM),
    ("adam-bias-correction-t+1", "scratch/optimizers.py", "v_hat = v / (1.0 - self.beta_2**t)",
     "v_hat = v / (1.0 - self.beta_2**(t + 1))", T_OPTIM),
    ("trainer-ignores-lr-decay", "scratch/trainer.py", "self.optimizer.lr = self.plan.lr_at(epoch)",
     "self.optimizer.lr = self.plan.lr", T_OPTIM),
    ("weight-decay-sign", "scratch/optimizers.py", "grads[name] + self.weight_decay * param",
     "grads[name] - self.weight_decay * param", T_OPTIM),
    ("mse-gradient-halved", "scratch/losses.py", "return 2.0 * (self.prediction - self.target)",
     "return 1.0 * (self.prediction - self.target)", T_DENSE),
    ("bce-gradient-clip-bounds", "scratch/losses.py", "inside = (p > BCE_EPSILON) & (p < 1.0 - BCE_EPSILON)",
     "inside = (p > 0) & (p < 1.0)", T_DENSE),
    ("relu-gradient-at-zero", "scratch/ops.py", "return output_grad * (self.output > 0)",
     "return output_grad * (self.output >= 0)", T_CNN),
    ("maxpool-ties-all-routed", "scratch/fast/conv.py", "            self.hits[k] &= ~taken\n", "",
     [["parity_tests/test_scratch_kernels.py", "-k", "fused_conv_pool"]]),
    ("conv-rows-kernel-half-flipped", "scratch/fast/conv.py", "K[::-1, ::-1].transpose(0, 1, 3, 2)",
     "K[::-1, :].transpose(0, 1, 3, 2)", [["parity_tests/test_scratch_kernels.py", "-k", "rows"]]),
    ("conv-rows-last-row-dropped", "scratch/fast/conv.py", "rows - (kh - 1) * wg - (kw - 1)",
     "rows - (kh - 1) * wg - kw", [["parity_tests/test_scratch_kernels.py", "-k", "rows"]]),
    ("lstm-backward-forget-gate", "scratch/fast/recurrent.py", "            dc *= f\n", "            dc *= i\n", T_LSTM),
    ("torch-conv-kernel-transposed", "torch_impl/convert.py",
     '(kh, kw, in, out); bias as is."""\n    return {f"{name}.W": tensors[f"{torch_name}.weight"].permute(2, 3, 1, 0)',
     '(kh, kw, in, out); bias as is."""\n    return {f"{name}.W": tensors[f"{torch_name}.weight"].permute(3, 2, 1, 0)',
     T_CONVERT),
    ("torch-flatten-order-kept", "torch_impl/convert.py",
     "return matrix.reshape(out, channels, -1).transpose(1, 2).reshape(out, -1)",
     "return matrix.reshape(out, channels, -1).reshape(out, -1)", T_CONVERT),
    ("torch-lstm-drops-bias-hh", "torch_impl/convert.py", 'key + "b": tensors[p % "bias_ih"] + tensors[p % "bias_hh"]})',
     'key + "b": tensors[p % "bias_ih"]})', T_LSTM + [["parity_tests/test_shared_code.py"]]),
    ("torch-lstm-bias-loaded-twice", "torch_impl/convert.py", 'p % "bias_hh": torch.zeros_like(weights[key + "b"])})',
     'p % "bias_hh": weights[key + "b"]})', T_LSTM + [["parity_tests/test_shared_code.py"]]),
    ("torch-lstm-bias-hh-trainable", "torch_impl/lstm.py", "self.lstm.bias_hh_l0.requires_grad_(False)",
     "self.lstm.bias_hh_l0.requires_grad_(True)", T_LSTM),
    ("torch-cnn-channels-from-input-side", "torch_impl/mnist_cnn.py", 'channels = tensors["conv2.weight"].shape[0]',
     'channels = tensors["conv2.weight"].shape[1]', T_CONVERT),
    ("keras-lstm-kernels-swapped", "keras_impl/lstm.py", '"lstm.W": lstm.kernel, "lstm.U": lstm.recurrent_kernel',
     '"lstm.W": lstm.recurrent_kernel, "lstm.U": lstm.kernel', [["parity_tests/test_shared_code.py", "-k", "keras"]]),
    ("keras-xor-bias-before-kernel", "keras_impl/xor.py", '(("W", layer.kernel), ("b", layer.bias))',
     '(("b", layer.bias), ("W", layer.kernel))', [["parity_tests/test_shared_code.py", "-k", "keras"]]),
    # a second round, planted after the tests for the first round's survivors were written
    ("dropout-not-rescaled", "scratch/ops.py", "        return self.input * self.mask / (1.0 - self.rate)",
     "        return self.input * self.mask", [["parity_tests/test_house_mlp.py"], ["parity_tests/test_cnn_layers.py"],
                                           ["parity_tests/test_shared_code.py", "-k", "dropout"]]),
    ("rmse-is-mse", "triptych/experiments.py", '"rmse": float(np.sqrt(mse))', '"rmse": mse',
     [["parity_tests/test_house_mlp.py"], ["parity_tests/test_shared_code.py", "-k", "metrics"]]),
    ("boston-test-rows-floor", "triptych/data.py", "n_test = int(np.ceil(test_size * len(X)))",
     "n_test = int(test_size * len(X))", [["parity_tests/test_house_mlp.py"]]),
    ("conv-input-grad-stride-offset", "scratch/conv.py", "dpadded[:, a:a + s * (ho - 1) + 1:s, b:b + s * (wo - 1) + 1:s]",
     "dpadded[:, a:a + s * (ho - 1) + 1:s, a:a + s * (wo - 1) + 1:s]", T_CNN),
    ("torch-linear-not-transposed", "torch_impl/convert.py",
     'out = {f"{torch_name}.weight": weights[f"{name}.W"].T.contiguous()}',
     'out = {f"{torch_name}.weight": weights[f"{name}.W"].contiguous()}', T_CONVERT),
    ("destination-probe-skipped", "triptych/files.py", "    _probe(folder, what, shown)\n    return shown",
     "    return shown", T_FILES),
    # a third round: the measurer itself (issue 25), each killed by parity_tests/test_measurer.py's independent answers
    ("rung5-final-weights-only", "triptych/parity.py", "add(5, pair(a, b), both[largest(both)],",
     "add(5, pair(a, b), weight_diff,", T_MEASURER),
    ("worst-ignores-second-sides-key", "triptych/parity.py", "sorted(set(a) ^ set(b))", "sorted(set(a) - set(b))",
     T_MEASURER),
    ("fd-mean-error", "triptych/parity.py", "errors[name] = float(np.max(np.abs(numeric - analytic)) / scale)",
     "errors[name] = float(np.mean(np.abs(numeric - analytic)) / scale)", T_MEASURER),
    ("fd-scale-mean-gradient", "triptych/parity.py", "scale = max(float(np.max(np.abs(grad))), 1e-12)",
     "scale = max(float(np.mean(np.abs(grad))), 1e-12)", T_MEASURER),
    ("fd-one-sided-step", "triptych/parity.py", "numeric[j] = (values[0] - values[1]) / (2 * delta)",
     "numeric[j] = (values[0] - values[1]) / delta", T_MEASURER),
    ("max-abs-checks-first-side-only", "triptych/parity.py",
     "if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):", "if not np.all(np.isfinite(a)):", T_MEASURER),
    ("max-rel-not-scaled", "triptych/parity.py", "return diff / scale if scale > 0 else diff", "return diff",
     T_MEASURER),
    ("nan-passes-a-none-tolerance", "triptych/parity.py", "passed = False if not math.isfinite(value) else",
     "passed = False if math.isinf(value) else", T_MEASURER),
    ("largest-ignores-nan", "triptych/parity.py", "key=lambda k: (math.isnan(values[k]), values[k])",
     "key=lambda k: values[k]", T_MEASURER),
    ("tolerance-trajectory-x10", "triptych/tolerances.py", "5: (1e-9, False)", "5: (1e-8, False)", T_MEASURER),
    ("tolerance-fd-x10", "triptych/tolerances.py", "6: (1e-6, True)", "6: (1e-5, True)", T_MEASURER),
    ("tolerance-float32-loss-absolute", "triptych/tolerances.py", "2: (1e-6, True)", "2: (1e-6, False)", T_MEASURER),
    ("linear-decay-off-by-one", "triptych/frameworks.py", "1.0 - self.decay_rate * epoch)",
     "1.0 - self.decay_rate * (epoch + 1))", T_MEASURER),
    ("linear-decay-not-floored", "triptych/frameworks.py", "max(0.0, 1.0 - self.decay_rate * epoch)",
     "(1.0 - self.decay_rate * epoch)", T_MEASURER),
    ("exponential-decay-off-by-one", "triptych/frameworks.py", "self.decay_rate ** epoch",
     "self.decay_rate ** (epoch + 1)", T_MEASURER),
    ("scratch-schedule-off-by-one", "scratch/trainer.py", "self.plan.lr_at(epoch)", "self.plan.lr_at(epoch + 1)",
     T_MEASURER),
    ("torch-schedule-off-by-one", "torch_impl/training.py", "lambda epoch: plan.lr_at(epoch) / plan.lr",
     "lambda epoch: plan.lr_at(epoch + 1) / plan.lr", T_MEASURER),
    ("keras-schedule-off-by-one", "keras_impl/training.py", "lambda epoch, lr: plan.lr_at(epoch)",
     "lambda epoch, lr: plan.lr_at(epoch + 1)", T_MEASURER),
    ("ddp-loss-summed-not-averaged", "torch_impl/training.py", "        loss /= replicas\n", "", T_MEASURER),
    ("ddp-loss-not-reduced", "torch_impl/training.py", "        dist.all_reduce(loss)\n", "", T_MEASURER),
    ("ddp-every-rank-takes-share-0", "torch_impl/training.py", "np.array_split(idx, self.replicas)[self.rank]",
     "np.array_split(idx, self.replicas)[0]", T_MEASURER),
    ("glorot-limit-halved", "scratch/init.py", "limit = np.sqrt(6.0 / (fan_in + fan_out))",
     "limit = np.sqrt(3.0 / (fan_in + fan_out))", [["parity_tests/test_conventions_dense.py"]]),
]


def run_mutant(mutant, timeout: int = 1200) -> tuple[bool, str, float]:
    """(killed, first failing test or reason, seconds) for one mutant; the file is always restored."""
    name, file, old, new, groups = mutant
    path = ROOT / file
    original = path.read_text(encoding="utf-8")
    if original.count(old) != 1:
        raise SystemExit(f"{name}: the snippet occurs {original.count(old)} times in {file}")
    start, summaries = time.perf_counter(), []
    try:
        path.write_text(original.replace(old, new), encoding="utf-8")
        for tests in groups:
            try:
                out = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                                     cwd=ROOT, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return True, "timed out", time.perf_counter() - start
            failed = [line.split(" ")[1] for line in out.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
            if out.returncode != 0:
                return True, failed[0] if failed else out.stdout.strip().splitlines()[-1], time.perf_counter() - start
            summaries.append(out.stdout.strip().splitlines()[-1])
    finally:
        path.write_text(original, encoding="utf-8")
    return False, "; ".join(summaries), time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the mutants whose id contains this")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    mutants = [m for m in MUTANTS if not args.only or args.only in m[0]]
    if args.list:
        print("\n".join(f"{m[0]:<36} {m[1]}" for m in mutants))
        return 0
    survivors = []
    for i, mutant in enumerate(mutants, 1):
        killed, detail, seconds = run_mutant(mutant)
        print(f"[{i}/{len(mutants)}] {'killed  ' if killed else 'SURVIVED'} {mutant[0]:<36} {seconds:5.0f} s  {detail}",
              flush=True)
        if not killed:
            survivors.append(mutant[0])
    print(f"\nkilled {len(mutants) - len(survivors)}/{len(mutants)}; survivors: {', '.join(survivors) or 'none'}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
