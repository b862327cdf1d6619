"""Every registered model's three files carry the six section markers (data → model → loss → optimizer →
training → conversion), each once and in order, so the report can set them side by side section by section."""
from __future__ import annotations

import re
from html import unescape

import pytest

from triptych.frameworks import FRAMEWORKS
from triptych.registry import MODELS, get_spec
from reports.code_sections import SECTIONS, source_path, split_sections
from reports.html_page import highlighted_lines


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_registered_model_file_has_the_six_markers_in_order(framework):
    for model in MODELS:
        path = source_path(get_spec(model), framework)
        assert path is not None, f"{model}: no {framework} file"
        sections = split_sections(path.read_text(encoding="utf-8"))
        assert sections.problems == [], f"{path}: {sections.problems}"
        assert list(sections.parts) == list(SECTIONS)


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
