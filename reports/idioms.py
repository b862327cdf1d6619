"""The idioms page: the three frameworks' training loops, optimizers and losses side by side, read from the
model files' own sections (never a hand-written copy) for every model of the report.

Each idiom gets a table of the calls its section makes in each file (the idiom's anatomy, one row per
model: ``opt.zero_grad()``, ``batch_loss.backward()``, ``opt.step()`` against ``model.compile()``,
``model.fit()``), then the code: the first model's open, every other model's folded.
"""
from __future__ import annotations

import ast
import builtins
from pathlib import Path

from triptych.frameworks import FRAMEWORKS
from triptych.registry import get_spec
from reports.code_sections import aligned_code, source_path, split_sections
from reports.document import Cell, Folded, Section, Table, Text, model_page

PAGE = "idioms.html"
IDIOMS = (
    ("training", "Training loops",
     "The loop each framework writes: torch zero_grad → forward → loss → backward → step over the shared "
     "batches; Keras compile, then fit; scratch its forward pass, the loss, its hand-written backward pass and "
     "the optimizer's update. What the shared helpers add is bookkeeping only (each step's loss, NaN checks, "
     "evaluation, progress)."),
    ("optimizer", "Optimizers",
     "Each model's recipe optimizer built in its framework's own call: torch.optim over model.parameters(), "
     "keras.optimizers with learning_rate, scratch's own classes; another optimizer a caller names comes from "
     "the package's shared factory."),
    ("loss", "Losses", "The loss each framework is given: its own loss class, with its own reduction and its own "
                       "guard against log(0) (the conventions table on the index says where they differ)."),
)


def section_calls(path: Path, section: str) -> list[str]:
    """The calls written in one section of ``path``, each once, in the order they run (an inner call before
    the call it feeds): dotted names as written (``opt.step()``), Python's builtins left out."""
    text = path.read_text(encoding="utf-8")
    span = split_sections(text).spans.get(section)
    if span is None:
        return []
    tree = ast.parse(text)
    plain = set(dir(builtins))
    calls = sorted((n.end_lineno, n.end_col_offset, _dotted(n.func)) for n in ast.walk(tree)
                   if isinstance(n, ast.Call) and span[0] <= n.lineno <= span[1])
    return list(dict.fromkeys(f"{name}()" for _, _, name in calls if name and name not in plain))


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a name or attribute chain; ``….c`` where the chain starts at a call or subscript."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value) or '…'}.{node.attr}"
    return None


def calls_table(models: list[str], idiom: str) -> Table:
    """One row per distinct set of calls: models whose three sections make the same calls share a row."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for model in models:
        spec = get_spec(model)
        paths = [source_path(spec, fw) for fw in FRAMEWORKS]
        key = tuple(", ".join(section_calls(p, idiom)) or "—" if p else "file not found" for p in paths)
        groups.setdefault(key, []).append(model)
    rows = [[Cell(names[0], href=f"{model_page(names[0])}#code-{idiom}") if len(names) == 1 else Cell(", ".join(names)),
             *(Cell(calls, status="fail" if calls == "file not found" else None) for calls in key)]
            for key, names in groups.items()]
    return Table(["models", *FRAMEWORKS], rows, f"The calls each file's {idiom} section makes, in the order they run "
                 "(models that make the same calls share a row)", css="calls")


def idioms_sections(models: list[str]) -> list[Section]:
    """One section per idiom over ``models`` (in the report's order)."""
    sections = []
    for idiom, title, what in IDIOMS:
        blocks = [Text(what), calls_table(models, idiom)]
        for i, model in enumerate(models):
            code = aligned_code(get_spec(model), (idiom,), whole=False, anchor=None)
            if i == 0:
                blocks += [Text(f"{model}, the first model of this report (the others are folded below):"), code]
            else:
                blocks.append(Folded(f"{model}: its {idiom} section in the three files", [code]))
        sections.append(Section(title, idiom, blocks))
    return sections
