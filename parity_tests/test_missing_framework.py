"""A missing framework leaves the other two working, with a message saying what to install."""
from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK = textwrap.dedent("""
    import importlib.abc, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in {BLOCKED}:
                raise ImportError(f"No module named {{name!r}} (blocked by the test)")
    sys.meta_path.insert(0, Block())
""")


def run_without(blocked: set, body: str) -> subprocess.CompletedProcess:
    code = BLOCK.replace("{BLOCKED}", repr(blocked)) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_without_tensorflow_scratch_and_torch_still_work():
    out = run_without({"tensorflow", "keras"}, """
        from triptych.frameworks import get_framework, FrameworkUnavailable, available_frameworks
        from triptych.parity import run_ladder
        try:
            get_framework("keras")
        except FrameworkUnavailable as exc:
            print("MESSAGE", exc)
        results = run_ladder("xor", rungs=(1, 2, 3))
        print("PAIRS", sorted({r.pair for r in results}), all(r.passed for r in results))
    """)
    assert out.returncode == 0, out.stderr
    assert "MESSAGE framework 'keras' is not available" in out.stdout and "pip install tensorflow-cpu keras" in out.stdout
    assert "PAIRS ['scratch↔torch'] True" in out.stdout


def test_without_torch_the_cli_says_what_to_install():
    out = run_without({"torch"}, """
        import sys
        from triptych.cli import main
        code = main(["train", "xor", "--framework", "torch"])
        print("CODE", code)
        print("SCRATCH", main(["train", "xor", "--framework", "scratch", "--epochs", "2"]))
    """)
    assert "CODE 2" in out.stdout and "SCRATCH 0" in out.stdout
    assert "pip install torch==2.13.0" in out.stderr


def test_common_imports_no_framework_at_import_time():
    out = subprocess.run([sys.executable, "-c", (
        "import sys, triptych.frameworks, triptych.registry, triptych.canonical, triptych.data, triptych.parity, "
        "triptych.cli, triptych.experiments, triptych.batching, scratch.framework; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))")],
        capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_scratch_has_no_framework_code():
    from pathlib import Path
    import re

    root = Path(__file__).resolve().parents[1] / "scratch"
    offenders = [f"{path.name}: {line.strip()}" for path in sorted(root.glob("*.py"))
                 for line in path.read_text().splitlines()
                 if re.match(r"\s*(import|from)\s+(torch|tensorflow|keras|jax)\b", line)]
    assert not offenders, offenders
