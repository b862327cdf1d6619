"""Every registered model's three files carry the six section markers (data → model → loss → optimizer →
training → conversion), each once and in order, so the report can set them side by side section by section;
and every section holds the code it names, in its framework's idiom (the lesson is the code):

- every section but scratch's conversion holds a statement that is not an import, a docstring, a comment or
  ``pass`` (a ``def`` counts through its body);
- torch's training calls ``.zero_grad(``, ``.backward(`` and ``.step(``; Keras's ``.compile(`` and ``.fit(``;
  scratch's ``.backward(`` (or, in the NumPy L-layer notebook idiom, a function ``…_backward(`` such as
  ``L_model_backward(``: its hand-written backward pass) and ``.step(``;
- the optimizer section calls ``torch.optim.…(`` / ``keras.optimizers.…(`` / a scratch optimizer class.

The checks read each file's syntax tree (comments and strings never count) and the section's line span.
"""
from __future__ import annotations

import ast
import re
from html import unescape

import pytest

from triptych.frameworks import FRAMEWORKS
from triptych.registry import MODELS, get_spec
from reports.code_sections import SECTIONS, source_path, split_sections
from reports.html_page import highlighted_lines

SCRATCH_OPTIMIZERS = ("Adam", "SGD", "RMSprop")
TRAINING_CALLS = {"torch": ("zero_grad", "backward", "step"), "keras": ("compile", "fit"),
                  "scratch": ("backward", "step")}
OPTIMIZER_PREFIX = {"torch": "torch.optim.", "keras": "keras.optimizers."}


BODIES = ("body", "orelse", "finalbody", "handlers", "cases")
HEADED = (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)  # the header line is code itself


def is_code(node: ast.stmt) -> bool:
    """Whether ``node``, a statement with no body of its own or an if/for/while/with, is real code: not an
    import, a docstring or other bare constant, nor ``pass``.  (A def or class counts through its body.)"""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
        return False
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return False
    return isinstance(node, HEADED) or not any(isinstance(getattr(node, name, None), list) for name in BODIES)


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for a Name/Attribute chain (``x().y`` gives ``?.y``)."""
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else "?"


def _within(node: ast.AST, span: tuple[int, int]) -> bool:
    return span[0] <= node.lineno <= span[1]


def section_findings(framework: str, source: str) -> list[str]:
    """What is wrong with the sections of one model file in ``framework``: hollow sections and missing idioms.
    Marker problems are split_sections' own (the test above)."""
    sections = split_sections(source)
    tree = ast.parse(source)
    code = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and is_code(n)]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    findings = []
    for name, span in sections.spans.items():
        if framework == "scratch" and name == "conversion":
            continue
        if not any(_within(n, span) for n in code):
            findings.append(f"section '{name}' holds no code (only comments, imports or docstrings)")
    if "training" in sections.spans:
        inside = [c for c in calls if _within(c, sections.spans["training"])]
        made = {c.func.attr for c in inside if isinstance(c.func, ast.Attribute)}
        if framework == "scratch" and any(dotted(c.func).endswith("_backward") for c in inside):
            made.add("backward")  # the notebook idiom's backward pass, L_model_backward(AL, Y, caches)
        findings += [f"training section never calls .{method}(" for method in TRAINING_CALLS[framework]
                     if method not in made]
    if "optimizer" in sections.spans:
        names = [dotted(c.func) for c in calls if _within(c, sections.spans["optimizer"])]
        if framework == "scratch":
            built = any(n.rsplit(".", 1)[-1] in SCRATCH_OPTIMIZERS for n in names)
            expected = f"a scratch optimizer class ({', '.join(f'{o}(' for o in SCRATCH_OPTIMIZERS)})"
        else:
            built = any(n.startswith(OPTIMIZER_PREFIX[framework]) for n in names)
            expected = f"{OPTIMIZER_PREFIX[framework]}…("
        if not built:
            findings.append(f"optimizer section builds no optimizer: no call of {expected}")
    return findings


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_registered_model_file_has_the_six_markers_in_order(framework):
    for model in MODELS:
        path = source_path(get_spec(model), framework)
        assert path is not None, f"{model}: no {framework} file"
        sections = split_sections(path.read_text(encoding="utf-8"))
        assert sections.problems == [], f"{path}: {sections.problems}"
        assert list(sections.parts) == list(SECTIONS)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_section_holds_its_code_in_the_frameworks_idiom(framework):
    """Contract 1: a learner reading any section of any model file finds the code it names."""
    findings = {}
    for model in MODELS:
        path = source_path(get_spec(model), framework)
        found = section_findings(framework, path.read_text(encoding="utf-8"))
        if found:
            findings[str(path)] = found
    assert findings == {}, "\n".join(f"{path}: {f}" for path, found in findings.items() for f in found)


def test_conversion_comes_last_and_holds_the_conversion_hooks():
    for model in MODELS:
        spec = get_spec(model)
        torch_parts = split_sections(source_path(spec, "torch").read_text(encoding="utf-8")).parts
        keras_parts = split_sections(source_path(spec, "keras").read_text(encoding="utf-8")).parts
        assert "def to_canonical(" in torch_parts["conversion"] and "def from_canonical(" in torch_parts["conversion"]
        assert "def canonical_variables(" in keras_parts["conversion"], model


def file_with(*names: str) -> str:
    return "\n".join(f"# ---- {name}: words\nx = 1\n" for name in names)


def test_a_file_with_the_markers_in_order_passes_and_is_cut_at_them():
    sections = split_sections('"""doc"""\nimport os\n\n' + file_with(*SECTIONS))
    assert sections.problems == []
    assert sections.header == '"""doc"""\nimport os'
    assert sections.parts["loss"] == "# ---- loss: words\nx = 1"


@pytest.mark.parametrize("names, problem", [
    (("data", "model", "optimizer", "training", "conversion"), "no '# ---- loss' marker"),
    ((*SECTIONS, "data"), "'# ---- data' appears 2 times"),
    (("data", "loss", "model", "optimizer", "training", "conversion"), "markers in the order data, loss, model"),
    (("data", "model", "loss", "optimiser", "training", "conversion"), "unknown section marker '# ---- optimiser'"),
])
def test_a_missing_repeated_misordered_or_unknown_marker_is_a_problem(names, problem):
    problems = split_sections(file_with(*names)).problems
    assert any(p.startswith(problem) for p in problems), problems


def test_each_code_line_is_one_block_carrying_its_indentation():
    """The report's code cells wrap long lines; each line keeps its indentation so the wrap hangs under it."""
    source = 'def f(x):\n    """doc\n    more"""\n\n    return x  # a comment'
    html = highlighted_lines(source)
    assert re.findall(r'class="ln" style="--i:(\d+)"', html) == ["0", "4", "4", "0", "4"]
    text = re.sub(r"<[^>]+>", "", html.replace('</span><span class="ln"', '</span>\n<span class="ln"'))
    assert unescape(text) == source


# ---------------------------------------------------------------- the section checker on synthetic files

TORCH_TRAINING = """def train(model, X, y, plan):
    opt = optimizer(model, plan)
    for X_b, y_b in batches(X, y, plan):
        opt.zero_grad()
        batch_loss = loss()(model(X_b), y_b)
        batch_loss.backward()
        opt.step()
"""
GOOD = {
    "torch": {"data": "def batches(X, y, plan):\n    return split(X, y, plan)\n",
              "model": "def build(config):\n    return Net(config)\n",
              "loss": "def loss():\n    return nn.BCELoss()\n",
              "optimizer": "def optimizer(model, plan):\n    return torch.optim.SGD(model.parameters(), lr=plan.lr)\n",
              "training": TORCH_TRAINING,
              "conversion": "def to_canonical(t):\n    return dict(t)\n"},
    "keras": {"data": "def dataset(X, y, plan):\n    return training.shared_batches(X, y, plan)\n",
              "model": "def build(config, dtype):\n    return keras.Sequential()\n",
              "loss": "def loss():\n    return keras.losses.BinaryCrossentropy()\n",
              "optimizer": "def optimizer(plan):\n    return keras.optimizers.Adam(learning_rate=plan.lr)\n",
              "training": "def train(model, X, y, plan):\n    model.compile(optimizer=optimizer(plan), loss=loss())\n"
                          "    model.fit(dataset(X, y, plan), epochs=plan.epochs)\n",
              "conversion": "def canonical_variables(model):\n    return {}\n"},
    "scratch": {"data": "def batches(X, y, plan):\n    return trainer.Batches(X, y, plan)\n",
                "model": "def build(config, seed, dtype):\n    return Network([])\n",
                "loss": "def loss():\n    return BinaryCrossEntropy()\n",
                "optimizer": "def optimizer(network, plan):\n    return SGD(network.params(), lr=plan.lr)\n",
                "training": "def train(network, X, y, plan):\n    opt = optimizer(network, plan)\n"
                            "    for X_b, y_b in batches(X, y, plan):\n        network.backward(network.loss(X_b, y_b))\n"
                            "        opt.step()\n",
                "conversion": "# the scratch layout is the canonical one\n"},
}


def synthetic(framework: str, **replace: str) -> str:
    """A model file of ``framework`` with every section well filled, some replaced by ``replace``."""
    parts = {**GOOD[framework], **replace}
    return '"""doc"""\nimport numpy as np\n\n' + "\n".join(f"# ---- {name}: words\n{parts[name]}" for name in SECTIONS)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_checker_passes_a_file_whose_sections_all_hold_their_code(framework):
    assert split_sections(synthetic(framework)).problems == []
    assert section_findings(framework, synthetic(framework)) == []


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("hollow", [
    "# only a comment, continued\n# on a second line\n",
    "from triptych.data import xor_data\n",
    "import numpy as np  # an import with a comment\n",
    '"""a docstring where the code should be"""\n',
    "def loss():\n    \"\"\"only a docstring\"\"\"\n",
    "def loss():\n    pass\n",
])
@pytest.mark.parametrize("section", ["data", "loss"])
def test_a_section_of_only_a_comment_an_import_or_a_docstring_fails(framework, hollow, section):
    assert section_findings(framework, synthetic(framework, **{section: hollow})) == [
        f"section '{section}' holds no code (only comments, imports or docstrings)"]


def test_scratch_conversion_may_be_a_comment_but_not_torch_or_keras():
    assert section_findings("scratch", synthetic("scratch", conversion="# canonical\n")) == []
    for framework in ("torch", "keras"):
        assert section_findings(framework, synthetic(framework, conversion="# canonical\n")) == [
            "section 'conversion' holds no code (only comments, imports or docstrings)"]


@pytest.mark.parametrize("framework, method", [("torch", "zero_grad"), ("torch", "backward"), ("torch", "step"),
                                               ("keras", "compile"), ("keras", "fit"),
                                               ("scratch", "backward"), ("scratch", "step")])
def test_a_training_section_without_its_idiom_fails(framework, method):
    training = GOOD[framework]["training"]
    lines = [line for line in training.splitlines() if f".{method}(" not in line]
    lines += [f"    # {method} happens in a shared helper: .{method}( in a comment does not count",
              f"    helper = '.{method}('", "    return shared_fit(network_or_model)"]
    assert section_findings(framework, synthetic(framework, training="\n".join(lines) + "\n")) == [
        f"training section never calls .{method}("]


def test_scratch_may_write_its_backward_pass_as_a_notebook_function_but_torch_may_not():
    notebook = ("def train(network, X, y, plan):\n    opt = optimizer(network, plan)\n"
                "    for X_b, y_b in batches(X, y, plan):\n        AL, caches = L_model_forward(X_b.T, network.parameters)\n"
                "        grads = L_model_backward(AL, y_b.T, caches)\n        opt.step(network.parameters, grads)\n")
    assert section_findings("scratch", synthetic("scratch", training=notebook)) == []
    torch_like = TORCH_TRAINING.replace("batch_loss.backward()", "L_model_backward(batch_loss)")
    assert section_findings("torch", synthetic("torch", training=torch_like)) == ["training section never calls .backward("]


def test_a_torch_training_that_delegates_the_loop_fails_every_idiom():
    delegated = "def train(model, X, y, plan):\n    return training.fit(model, loss(), X, y, plan)\n"
    assert section_findings("torch", synthetic("torch", training=delegated)) == [
        f"training section never calls .{m}(" for m in ("zero_grad", "backward", "step")]


@pytest.mark.parametrize("framework, body", [
    ("torch", "def optimizer(model, plan):\n    return training.make_optimizer(model.parameters(), plan)\n"),
    ("torch", "def optimizer(model, plan):\n    return optim.SGD(model.parameters(), lr=plan.lr)  # torch.optim.SGD(\n"),
    ("keras", "def optimizer(plan):\n    return training.make_optimizer(plan)\n"),
    ("scratch", "def optimizer(network, plan):\n    return make_optimizer(plan)\n"),
    ("scratch", "def optimizer(network, plan):\n    return Adamax(network.params())\n"),
])
def test_an_optimizer_section_that_builds_no_framework_optimizer_fails(framework, body):
    findings = section_findings(framework, synthetic(framework, optimizer=body))
    assert len(findings) == 1 and findings[0].startswith("optimizer section builds no optimizer"), findings


def test_code_inside_a_class_counts_for_the_section_its_lines_are_in():
    """A marker may sit inside a class or function (indented): the section is its lines, whatever encloses them."""
    source = synthetic("scratch", model="class Net:\n    def build(self):\n        return Network([])\n\n"
                                        "    # ---- loss: inside the class\n    def loss(self):\n"
                                        "        return BinaryCrossEntropy()\n", loss="")
    source = source.replace("# ---- loss: words\n", "")
    assert split_sections(source).problems == []
    assert section_findings("scratch", source) == []
    hollow = source.replace("        return BinaryCrossEntropy()\n", "        pass\n")
    assert section_findings("scratch", hollow) == ["section 'loss' holds no code (only comments, imports or docstrings)"]
