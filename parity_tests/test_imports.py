"""The import rules of the house, read statically from the code (``ast``, no import run):

- no cycle among the project's files (triptych, scratch, torch_impl, keras_impl, reports, porting, examples),
  counting every import, at module level or inside a function;
- no import runs up the house: nothing in ``triptych/`` (the core) imports ``reports/``, ``porting/`` or
  scratch/torch_impl/keras_impl, at module level or inside a function; the packages above reach the core,
  and the core reaches them by name only (``get_framework``, ``triptych.packages.porting_module``, the
  CLI's ``triptych.commands`` entry points);
- ``scratch/`` imports no torch, tensorflow, jax or keras anywhere; ``triptych/`` and ``porting/`` (whose command
  joins the CLI's parser) none at module level;
- and, run for real: importing ``triptych``, every module under it, and building the CLI's parser
  loads none of torch, tensorflow, jax or keras.

The checker is tested on a small planted tree, so a rule that stopped seeing its violation fails too.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("triptych", "scratch", "torch_impl", "keras_impl", "reports", "porting", "examples")
ABOVE_THE_CORE = ("reports", "porting", "scratch", "torch_impl", "keras_impl")  # packages that stand on triptych/
HEAVY = ("torch", "tensorflow", "jax", "keras")


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "triptych.cli"
    target: str  # the imported module as resolved, e.g. "reports.generate" or "torch.nn"
    line: int
    module_level: bool  # False inside a function body (runs only when called)

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}{'' if self.module_level else ' (in a function)'}"


def module_files(root: Path, packages=PROJECT) -> dict[str, Path]:
    """{dotted module name: file} for every .py file under ``root``/<package>."""
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _in_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str, path: Path, known: dict[str, Path]) -> list[Import]:
    """Every import in ``path``, resolved: ``from a import b`` names ``a.b`` where that is a module
    of ``known``, else ``a``; relative imports are resolved against ``module``'s package."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _in_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(module, alias.name, child.lineno, module_level) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[:len(package.split(".")) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    sub = f"{base}.{alias.name}"
                    found.append(Import(module, sub if sub in known else base, child.lineno, module_level))
            visit(child, module_level and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                        ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), True)
    return found


def all_imports(root: Path, packages=PROJECT) -> list[Import]:
    known = module_files(root, packages)
    return [imp for module, path in known.items() for imp in imports_of(module, path, known)]


def _top(name: str) -> str:
    return name.partition(".")[0]


def import_cycles(root: Path, packages=PROJECT) -> list[list[str]]:
    """Groups of project modules that import each other in a circle (strongly connected components of
    two or more modules, or one that imports itself), each sorted."""
    known = module_files(root, packages)
    edges = {module: set() for module in known}
    for imp in all_imports(root, packages):
        if imp.target in known:
            edges[imp.source].add(imp.target)
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def connect(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges[node]):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges[node]:
                cycles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(known) + 100))
    for node in sorted(edges):
        if node not in index:
            connect(node)
    return cycles


def rule_violations(root: Path, packages=PROJECT) -> list[str]:
    """Every import that breaks a rule of the module docstring (cycles apart), as readable lines."""
    bad = []
    for imp in all_imports(root, packages):
        source, target = _top(imp.source), _top(imp.target)
        if source == "triptych" and target in ABOVE_THE_CORE:
            bad.append(f"{imp}: triptych/ must not import {target}/, which stands on it (reach it by name)")
        if source == "scratch" and target in HEAVY:
            bad.append(f"{imp}: scratch/ is NumPy only")
        if source in ("triptych", "porting") and target in HEAVY and imp.module_level:
            bad.append(f"{imp}: {source}/ imports no heavy framework at module import time")
    return bad


# ---------------------------------------------------------------- the rules on this checkout


def test_no_import_cycle_among_project_files():
    cycles = import_cycles(ROOT)
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(group) for group in cycles)


def test_import_rules_hold():
    bad = rule_violations(ROOT)
    assert not bad, "\n".join(bad)


def test_importing_triptych_loads_no_heavy_framework():
    """Every module of triptych/ imported, and the CLI's parser built (the report's command joins it
    through the entry point): none of torch, tensorflow, jax or keras is in sys.modules."""
    code = textwrap.dedent(f"""
        import importlib, pkgutil, sys
        import triptych
        for info in pkgutil.walk_packages(triptych.__path__, "triptych."):
            importlib.import_module(info.name)
        from triptych.cli import build_parser
        build_parser()
        print(",".join(sorted(name for name in sys.modules if name.partition(".")[0] in {HEAVY!r})))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"importing triptych loaded: {out.stdout.strip()}"


# ---------------------------------------------------------------- the checker on a planted tree


def _plant(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_checker_finds_planted_violations(tmp_path):
    _plant(tmp_path, {
        "triptych/__init__.py": "",
        "triptych/a.py": "from triptych import b\n",
        "triptych/b.py": "def later():\n    from . import a\n",  # a lazy import closes the circle
        "triptych/c.py": "import numpy\nfrom reports.page import render\nimport torch_impl.framework\n"
                         "def fine():\n    import torch\n    import keras_impl.framework\n",
        "triptych/d.py": "import tensorflow as tf\n",
        "scratch/__init__.py": "",
        "scratch/e.py": "def hidden():\n    import jax.numpy\n",
        "scratch/f.py": "from .e import hidden\n",  # relative, fine
        "reports/__init__.py": "",
        "reports/page.py": "from triptych.c import fine\n",
        "reports/g.py": "import reports.g\n",  # imports itself
        "porting/__init__.py": "",
        "porting/h.py": "import keras\ndef later():\n    import torch\n",
    })
    cycles = import_cycles(tmp_path)
    assert sorted(cycles) == [["reports.g"], ["reports.page", "triptych.c"], ["triptych.a", "triptych.b"]]
    bad = "\n".join(rule_violations(tmp_path))
    assert "triptych.c:2 imports reports.page: triptych/ must not import reports/" in bad
    assert "triptych.c:3 imports torch_impl.framework: triptych/ must not import torch_impl/" in bad
    assert "triptych.c:6 imports keras_impl.framework (in a function): triptych/ must not import keras_impl/" in bad
    assert "triptych.d:1 imports tensorflow: triptych/ imports no heavy framework" in bad
    assert "porting.h:1 imports keras: porting/ imports no heavy framework" in bad
    assert "porting.h:3" not in bad  # torch inside a function: allowed
    assert "scratch.e:2 imports jax.numpy (in a function): scratch/ is NumPy only" in bad
    assert "import torch\n" not in bad and "triptych.c:5" not in bad
    assert "scratch.f" not in bad and "numpy" not in bad.replace("jax.numpy", "")
