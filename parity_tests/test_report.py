"""The report (``triptych report --quick``): every file with every figure, well-formed pages that need
nothing from the network and link nowhere outside their folder (an index with the parity heat map and the
curriculum, one page per model and per study, the idioms page, a copy of every test the conventions cite),
the real source code side by side section by section with the shared code each file stands on, a failing
framework reported while everything else still is, and every page rendered by a headless Chromium where one
is installed."""
from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import os
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from triptych.cli import main
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.registry import MODELS
from reports.cited_tests import cited, href_of, page_of
from reports.code_sections import SECTIONS, split_sections
from reports.conventions import conventions, has_test
from reports.generate import main_report
from reports.idioms import IDIOMS
from parity_tests.browser import Browser, PageView, find_chromium, link_problems

ROOT = Path(__file__).resolve().parents[1]
QUICK_MODELS = ["xor", "linreg"]
QUICK_STUDIES = ["house"]
PAIRS = ["scratch↔torch", "scratch↔keras", "torch↔keras"]
KEY_METRIC = {"binary": "test accuracy", "regression": "test rmse", "classification": "test accuracy",
              "reconstruction": "test mse"}  # by task
SOURCE_DIRS = ("scratch", "torch_impl", "keras_impl")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Checks that non-void elements nest and close; collects text, ids, links and image sources."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.open, self.errors, self.text, self.ids, self.urls, self.links = [], [], [], set(), [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.add(attrs.get("id"))
        self.urls += [(tag, name, attrs[name]) for name in ("src", "href") if name in attrs]
        if tag == "a" and "href" in attrs:
            self.links.append([attrs["href"], ""])
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> while {self.open[-3:]} are open")
        else:
            self.open.pop()

    def handle_data(self, data):
        self.text.append(data)
        if self.open and self.open[-1] == "a" and self.links:
            self.links[-1][1] += data

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def run_cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The quick report on xor, linreg and the house study, written once through the CLI: (folder, exit code, stdout)."""
    out = tmp_path_factory.mktemp("report")
    code, stdout = run_cli(["report", "--quick", "--models", *QUICK_MODELS, "--studies", *QUICK_STUDIES,
                            "--out", str(out)])
    return out, code, stdout


TEST_PAGES = [page_of(path) for path in cited([c.test for c in conventions()[1] if c.test])]
PAGES = ["index.html", *(f"model-{m}.html" for m in QUICK_MODELS), "idioms.html",
         *(f"study-{s}.html" for s in QUICK_STUDIES), *TEST_PAGES]


@pytest.fixture(scope="module")
def page(report):
    return Page((report[0] / "index.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pages(report):
    """Every HTML page of the report by its path in the report's folder."""
    return {p.relative_to(report[0]).as_posix(): Page(p.read_text(encoding="utf-8")) for p in report[0].rglob("*.html")}


@pytest.fixture(scope="module")
def results(report):
    return pd.read_csv(report[0] / "results.csv")


def test_quick_report_passes_and_writes_every_file(report):
    out, code, stdout = report
    assert code == 0, stdout
    for name in (*PAGES, "report.md", "results.csv", "results.json",
                 *(f"{m}_loss{s}.png" for m in QUICK_MODELS for s in ("", "_difference"))):
        assert (out / name).is_file(), name
    assert (out / "xor_loss.png").read_bytes().startswith(b"\x89PNG")


def test_progress_lines_and_summary_with_the_page_to_open(report):
    """Tasks run in parallel child processes; their lines are numbered here, each task's start once."""
    out, _, stdout = report
    starts = re.findall(r"^\[(\d+)/11\] (.+?): ", stdout, re.MULTILINE)
    labels = [f"{m} · {w}" for m in QUICK_MODELS for w in (*FRAMEWORKS, "parity float64", "parity float32")]
    assert sorted({label for _, label in starts}) == sorted(labels + ["study house"])
    first = {}
    for number, label in starts:
        first.setdefault(label, int(number))
    assert sorted(first.values()) == list(range(1, 12))  # every task started once, numbered 1 … 11
    assert re.search(r"^\[\d+/11\] xor · torch: training epoch 200/200", stdout, re.MULTILINE)
    assert "2 tasks at a time" in (out / "index.html").read_text(encoding="utf-8") or os.cpu_count() == 1
    assert f"open {out.resolve() / 'index.html'}" in stdout
    assert re.search(r"total time \d+\.\d s", stdout)


def test_csv_has_every_model_framework_and_pair(results):
    for model in QUICK_MODELS:
        for fw in FRAMEWORKS:
            rows = results[(results.model == model) & (results.framework == fw)].set_index("metric")["value"]
            assert {KEY_METRIC[MODELS[model].task], "test loss", "parameters", "ms per training step",
                    "training samples per s", "inference samples per s",
                    "inference time ratio to fastest"} <= set(rows.index)
            assert (rows > 0).all()
        parity = results[(results.model == model) & results.metric.str.startswith("rung")]
        for pair in PAIRS:
            assert len(parity[(parity.framework == pair) & (parity.dtype == "float64")]) == 5
            assert set(parity[(parity.framework == pair) & (parity.dtype == "float32")].metric) == {
                "rung1 forward", "rung2 loss", "rung3 gradients"}
        assert parity[parity.framework == "scratch↔FD"].metric.tolist() == ["rung6 finite differences"]
        assert parity.passed.all()
    xor = results[(results.model == "xor") & (results.metric == "test accuracy")]
    assert (xor.value == 1.0).all() and len(xor) == 3
    linreg = results[(results.model == "linreg") & (results.metric == "test rmse")]
    assert (linreg.value < 0.05).all()


def test_json_holds_the_same_figures(report, results):
    data = json.loads((report[0] / "results.json").read_text(encoding="utf-8"))
    rows = pd.DataFrame(data["rows"])
    pd.testing.assert_frame_equal(rows[["model", "framework", "dtype", "metric"]],
                                  results[["model", "framework", "dtype", "metric"]])
    assert rows.value.tolist() == pytest.approx(results.value.tolist())
    assert all(data["models"][m]["ok"] for m in QUICK_MODELS)
    for model in QUICK_MODELS:  # where the time went
        timings = data["models"][model]["timings"]
        assert set(timings) == {*FRAMEWORKS, "bench", "parity float64", "parity float32"} and all(t > 0 for t in timings.values())
    assert {"Python", "NumPy", "torch", "keras", "CPU", "threads"} <= set(data["environment"])


def test_markdown_has_the_tables(report):
    md = (report[0] / "report.md").read_text(encoding="utf-8")
    for model in QUICK_MODELS:
        section = md.split(f"## {model}\n", 1)[1].split("\n## ", 1)[0]
        for pair in PAIRS:
            assert f"| float64 | 1 forward | {pair} |" in section
            assert f"| float32 | 3 gradients | {pair} |" in section
        for fw in FRAMEWORKS:
            assert re.search(rf"^\| {fw} \| [\d,]+ \| \d+ \|", section, re.MULTILINE)  # final metrics
        assert f"![{model}_loss]({model}_loss.png)" in section
    assert "| SGD momentum |" in md and "test_momentum_differs_only_under_a_changing_learning_rate" in md
    study = md.split("## Study: house\n", 1)[1].split("\n## ", 1)[0]
    assert "| variant | framework | params | best_epoch | mae | rmse |" in study
    assert "![study_house_house_mae](study_house_house_mae.png)" in study


BROKEN_STUDIES = """
import os
from triptych.registry import StudySpec, register_study


def raises(frameworks, quick=False, progress=None):
    raise RuntimeError("injected study failure")


def crashes(frameworks, quick=False, progress=None):
    os._exit(3)


register_study(StudySpec("raising_study", "a study that raises", raises))
register_study(StudySpec("crashing_study", "a study whose process dies", crashes))
"""


def test_failing_studies_are_reported_and_the_models_still_are(tmp_path, capsys, registry_snapshot):
    """The studies run in child processes (their plugin loaded there): an error one raises, or its child dying,
    is that study's failure; the other tasks, a failing one among them, and the model beside them still run."""
    from triptych.registry import load_plugin

    plugin = tmp_path / "broken_studies.py"
    plugin.write_text(BROKEN_STUDIES)
    load_plugin(str(plugin))
    out = tmp_path / "report"
    assert main_report(out, quick=True, models=["xor"], progress=False, studies=["raising_study", "crashing_study"],
                       jobs=2) == 1
    printed = " ".join(capsys.readouterr().out.split())
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["models"]["xor"]["ok"] and not data["meta"]["ok"]
    assert "FAILED: study raising_study, study crashing_study" in (out / "index.html").read_text(encoding="utf-8")
    for study, shown in (("raising_study", "injected study failure"), ("crashing_study", "exited with status 3")):
        assert f"study {study} FAILED" in printed
        assert shown in (out / f"study-{study}.html").read_text(encoding="utf-8")


def test_one_page_per_model_and_study_and_each_well_formed(pages):
    assert sorted(pages) == sorted(PAGES)
    for name, page in pages.items():
        assert page.errors == [], name
        assert page.open == [], name


def test_html_is_self_contained(report, pages):
    out = report[0]
    images = [value for page in pages.values() for tag, name, value in page.urls if tag == "img"]
    assert len(images) == 2 * len(QUICK_MODELS) + len(QUICK_STUDIES)
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    folder = out.resolve()
    for name, page in pages.items():
        for tag, _, value in page.urls:
            if tag == "img":
                continue
            assert not re.match(r"\w+:", value), value  # no http(s):, file: or other scheme
            target, _, anchor = value.partition("#")
            if not target:
                assert anchor in page.ids, (name, value)
                continue
            path = ((out / name).parent / target).resolve()  # relative to the page's own folder
            assert path.is_relative_to(folder), (name, value)  # never out of the report's folder
            key = path.relative_to(folder).as_posix()
            assert key in pages, (name, value)  # another page of the report, and an anchor on it
            assert not anchor or anchor in pages[key].ids, (name, value)
        html = (out / name).read_text(encoding="utf-8")
        assert "<script" not in html and "<link" not in html and "@import" not in html


def test_index_has_the_heat_map_and_the_curriculum(report, page):
    text = page.all_text
    assert text.index("Parity at a glance") < text.index("Curriculum") < text.index("Conventions that differ")
    html = (report[0] / "index.html").read_text(encoding="utf-8")
    heat, curriculum = html.split('<table class="heat">', 1)[1].split('id="curriculum"', 1)
    for model in QUICK_MODELS:
        assert f'<th><a href="model-{model}.html#parity">{model}</a></th>' in heat  # its row of the map
        assert f'<td><a href="model-{model}.html">{model}</a></td>' in curriculum
        spec = MODELS[model]
        assert spec.teaches and spec.teaches in text and spec.origin and spec.origin in text
        for directory in SOURCE_DIRS:
            assert f"{directory}/{model}.py" in text
    for study in QUICK_STUDIES:
        assert f'<td><a href="study-{study}.html">{study}</a></td>' in curriculum
    assert "float64\u00a016/16, ≥\u00a0" in text and "float32\u00a09/9, ≥\u00a0" in text
    assert "100.0\u00a0%" in text  # XOR's accuracy in every framework


def test_heat_map_cells_are_log10_of_figure_over_tolerance(report, results):
    html = (report[0] / "index.html").read_text(encoding="utf-8")
    heat = html.split('<table class="heat">', 1)[1].split("</table>", 1)[0]
    row = heat.split('href="model-xor.html#parity">xor</a></th>', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="(\w+)[^"]*" title="([^"]*)">([^<]*)</td>', row)
    figures = {f"xor · {r['dtype']} · rung {r['metric'][4]} {r['metric'][6:]} · {r['framework']}:": r
               for r in results[(results.model == "xor") & results.metric.str.startswith("rung")].to_dict("records")}
    assert len(cells) == len(figures) == 25
    for shade, title, label in cells:
        figure = figures[title.split(":", 1)[0] + ":"]
        value, tolerance = figure["value"], float(figure["tolerance"])
        if value == 0:
            assert (shade, label) == ("exact", "=")
        else:
            orders = np.log10(value / tolerance)
            assert label == f"{orders:.1f}".replace("-", "−") and shade == f"g{min(10, int(np.floor(-orders)))}"


def test_model_pages_align_the_code_by_section(report, pages):
    for model in QUICK_MODELS:
        page = pages[f"model-{model}.html"]
        assert {f"code-{name}" for name in SECTIONS} <= page.ids and {"parity", "code"} <= page.ids
        html = (report[0] / f"model-{model}.html").read_text(encoding="utf-8")
        code = html.split('<div class="aligned">', 1)[1]
        assert [code.index(f'id="code-{name}"') for name in SECTIONS] == sorted(
            code.index(f'id="code-{name}"') for name in SECTIONS)
        conversion = code.split('id="code-conversion"', 1)[1]
        assert conversion.count('<div class="cell">') == 3
        assert "to_canonical" in Page(conversion).all_text and "canonical_variables" in Page(conversion).all_text


def test_conventions_link_tests_that_exist_in_the_reports_copy_of_their_file(page, pages):
    tests = [(href, text) for href, text in page.links if "::" in text]
    assert len(tests) == len(conventions()[1])  # every row of docs/conventions.md's table
    for href, node_id in tests:
        assert has_test(node_id), node_id
        assert href == href_of(node_id)
        copy, _, function = href.partition("#")
        assert function in pages[copy].ids  # the copy has the test under its name
        source = (ROOT / node_id.partition("::")[0]).read_text(encoding="utf-8")
        assert "".join(source.split()) in "".join(pages[copy].all_text.split())  # the whole file, in order
    assert any("test_adam_epsilon_defaults_and_placement_differ" in node for _, node in tests)


def distinctive_line(path: Path, others: list[Path]) -> str:
    """The longest line of ``path`` that appears in none of ``others``."""
    seen = {line.strip() for other in others for line in other.read_text(encoding="utf-8").splitlines()}
    return max((line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() not in seen), key=len)


def test_code_side_by_side_is_read_from_the_source_files(pages):
    for model in QUICK_MODELS:
        text = pages[f"model-{model}.html"].all_text
        files = [ROOT / d / f"{model}.py" for d in SOURCE_DIRS]
        for file in files:
            line = distinctive_line(file, [f for f in files if f != file])
            assert len(line) > 20 and line in text, (file, line)


def test_each_file_shows_the_shared_code_it_stands_on_with_its_source(report):
    """Folded under each column: the project definitions the file uses, each with its source as it is in the
    file that defines it (the first line checked against that file)."""
    for model in QUICK_MODELS:
        html = (report[0] / f"model-{model}.html").read_text(encoding="utf-8")
        cells = [part.split("<h3", 1)[0] for part in html.split('<div class="cell stands">')[1:]]
        assert len(cells) == len(FRAMEWORKS), model
        for cell in cells:
            shown = re.findall(r"<summary><code>([^<]+)</code> · (\w+) · <code>([^<:]+):(\d+)</code></summary>", cell)
            assert shown, (model, cell[:300])
            text = Page(cell).all_text
            for name, kind, path, line in shown:
                first = (ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1].strip()
                assert first in text, (model, name, path, line)
                if kind != "value":
                    assert first.startswith(("def ", "class ", "@")), (name, first)


def test_the_idioms_page_sets_each_models_sections_side_by_side(report, pages):
    idioms = pages["idioms.html"]
    html = (report[0] / "idioms.html").read_text(encoding="utf-8")
    assert [idiom for idiom, _, _ in IDIOMS] == ["training", "optimizer", "loss"]
    for idiom, title, _ in IDIOMS:
        assert idiom in idioms.ids and title in idioms.all_text
        part = Page(html.split(f'<section id="{idiom}">', 1)[1].split("</section>", 1)[0]).all_text
        for model in QUICK_MODELS:
            for directory in SOURCE_DIRS:  # the section as the file has it, drawn from the file
                section = split_sections((ROOT / directory / f"{model}.py").read_text(encoding="utf-8")).parts[idiom]
                lines = [line.strip() for line in section.splitlines() if line.strip()]
                assert all(line in part for line in lines), (idiom, model, directory)


MANUAL = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_is_a_front_door_and_the_manual_links_stay_inside_the_repository():
    """README.md at most 150 lines, linking every page of docs/; every relative link of the manual resolves to
    a file of the repository (the conventions table the report reads among them), and none leaves it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert {f"docs/{p.name}" for p in MANUAL[1:]} <= set(re.findall(r"\]\((docs/[^)#]+)", readme))
    for page in MANUAL:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"\w+:", target):  # an address on the web is a citation, not a file
                continue
            path = (page.parent / target.partition("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), (page.name, target)
        assert "../" not in re.sub(r"\]\([^)]*\)", "", text), page.name  # no path out of the checkout


def test_a_failing_framework_is_reported_and_the_rest_still_is(tmp_path, monkeypatch, capsys):
    torch_fw = get_framework("torch")
    real_train = torch_fw.train

    def train(net, *args, **kwargs):
        if net.model == "linreg":
            raise RuntimeError("injected failure for the report test")
        return real_train(net, *args, **kwargs)

    monkeypatch.setattr(torch_fw, "train", train)
    assert main_report(tmp_path, quick=True, models=["linreg", "house_mlp"], progress=False, studies=[],
                       jobs=1) == 1  # in this process, where the patch is
    assert "torch · training: RuntimeError: injected failure" in capsys.readouterr().out
    page = Page((tmp_path / "model-linreg.html").read_text(encoding="utf-8"))
    assert page.errors == [] and "injected failure for the report test" in page.all_text
    html = (tmp_path / "model-linreg.html").read_text(encoding="utf-8")
    assert "<details>" in html and "Traceback (most recent call last)" in page.all_text
    index = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert index.errors == [] and "FAILED: linreg" in index.all_text
    row = (tmp_path / "index.html").read_text(encoding="utf-8").split('<td><a href="model-linreg.html">linreg</a>')[1]
    assert '<td class="fail">failed</td>' in row.split("</tr>", 1)[0]  # torch's figure in the curriculum
    results = pd.read_csv(tmp_path / "results.csv")
    trained = results[results.metric == "test rmse"].groupby("model").framework.apply(set).to_dict()
    assert trained == {"linreg": {"scratch", "keras"}, "house_mlp": set(FRAMEWORKS)}
    assert (tmp_path / "house_mlp_loss.png").is_file() and (tmp_path / "linreg_loss_difference.png").is_file()
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["models"]["house_mlp"]["ok"] and not data["models"]["linreg"]["ok"]
    assert "**FAILED — torch · training**" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_the_default_report_caps_training_work_on_the_default_data_only():
    """The time budget: at most DEFAULT_DATA_TRAINING_GFLOP of training per framework on a model's default data
    (the heaviest models lose epochs), never on full data, and --quick keeps its own cap."""
    from reports.run import DEFAULT_DATA_TRAINING_GFLOP, training_setup
    from triptych.registry import Experiment, resolve

    def experiment(model, n):
        return Experiment(model, np.empty((n, 1)), None, None, None, "test")

    def gflop(model, n, epochs):
        return 3 * MODELS[model].flops(resolve(model, {}), None) * n * epochs / 1e9

    cnn = training_setup("mnist_cnn", False, "sample", experiment("mnist_cnn", 4000))
    assert cnn["declared_epochs"] == MODELS["mnist_cnn"].training["epochs"] > cnn["epochs"] >= 1
    assert gflop("mnist_cnn", 4000, cnn["epochs"]) <= DEFAULT_DATA_TRAINING_GFLOP
    assert gflop("mnist_cnn", 4000, cnn["epochs"] + 1) > DEFAULT_DATA_TRAINING_GFLOP
    assert "declared_epochs" not in training_setup("mnist_cnn", False, "full", experiment("mnist_cnn", 4000))
    assert "declared_epochs" not in training_setup("mnist_cnn", True, "sample", experiment("mnist_cnn", 512))
    assert training_setup("xor", False, "sample", experiment("xor", 4))["epochs"] == MODELS["xor"].training["epochs"]


def test_the_training_cap_never_goes_below_the_models_min_epochs():
    """resnet's budget is 1 epoch of its 4, but BatchNorm's moving statistics need 3 before the inference-mode
    accuracy leaves chance: its declared min_epochs is the floor (and the page still says it was capped)."""
    from reports.run import DEFAULT_DATA_TRAINING_GFLOP, training_setup
    from triptych.registry import Experiment, resolve

    spec = MODELS["resnet"]
    per_epoch = 3 * spec.flops(resolve("resnet", {}), None) * 4000 / 1e9
    assert DEFAULT_DATA_TRAINING_GFLOP // per_epoch < spec.min_epochs < spec.training["epochs"]
    setup = training_setup("resnet", False, "sample", Experiment("resnet", np.empty((4000, 1)), None, None, None, "test"))
    assert setup["epochs"] == spec.min_epochs and setup["declared_epochs"] == spec.training["epochs"]


@pytest.mark.slow
def test_quick_report_on_all_models(tmp_path):
    assert main_report(tmp_path, quick=True, models=list(MODELS), progress=False) == 0
    results = pd.read_csv(tmp_path / "results.csv")
    for model in MODELS:
        key = KEY_METRIC[MODELS[model].task]
        assert set(results[results.metric == key].query("model == @model").framework) == set(FRAMEWORKS)


# ---------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium on PATH (Debian: apt-get install chromium; or set TRIPTYCH_CHROMIUM): "
                    "the report's pages are not rendered in a browser")
    with Browser.launch(binary) as launched:
        yield launched


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    """Where the screenshots go: $TRIPTYCH_SCREENSHOTS, else a pytest temporary folder (printed)."""
    folder = Path(os.environ.get("TRIPTYCH_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def assert_renders_cleanly(view: PageView, folder: Path, width: int = 1280) -> None:
    """No console or load error, no sideways scrolling (folded or unfolded), every image decoded, and every
    link and source resolving inside ``folder``, the report's."""
    assert view.errors == [], view.errors
    assert link_problems(view, folder) == [], link_problems(view, folder)
    assert view.viewport == width
    for state, widths in view.widths.items():  # the body never scrolls sideways, folded or unfolded
        assert widths["visible"] <= width and widths["page"] <= widths["visible"], (state, widths)
        assert widths["body"] <= widths["visible"], (state, widths)
    for image in view.images:
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image


def test_every_page_renders_in_chromium_without_errors_or_sideways_scrolling(report, browser, screenshots):
    out = report[0]
    for name in PAGES:
        view = browser.open(out / name, width=1280)
        (screenshots / name.replace("/", "-").replace(".html", ".png")).write_bytes(view.screenshot)
        assert_renders_cleanly(view, out)
        assert any(link["raw"] == "index.html" or link["raw"].endswith("/index.html") for link in view.links) \
            or name == "index.html", name  # the check saw the page's links (its navigation at least)
        assert len(view.images) == (2 if name.startswith("model-") else 1 if name.startswith("study-") else 0), name
        assert view.screenshot.startswith(b"\x89PNG") and view.height > 900
    print(f"screenshots of the report's pages in {screenshots}")


def test_the_browser_check_catches_a_wide_page_a_broken_image_and_a_console_error(tmp_path, browser):
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><div style="width: 2000px">wide</div>'
                   '<img alt="gone" src="missing.png"><script>console.error("planted")</script></body></html>',
                   encoding="utf-8")
    view = browser.open(bad, width=1280)
    assert view.widths["folded"]["page"] >= 2000
    assert [i["complete"] and i["width"] > 0 for i in view.images] == [False]
    assert any("planted" in e for e in view.errors) and any("missing.png" in e for e in view.errors), view.errors
    with pytest.raises(AssertionError):
        assert_renders_cleanly(view, tmp_path)


def test_the_browser_check_catches_links_that_leave_the_folder_or_lead_nowhere(tmp_path, browser):
    report = tmp_path / "report"
    (report / "tests").mkdir(parents=True)
    (tmp_path / "outside.html").write_text("<p>beside the report</p>", encoding="utf-8")
    (report / "tests" / "other.html").write_text('<p id="here">a page</p>', encoding="utf-8")
    good = ['<a href="tests/other.html">a page</a>', '<a href="tests/other.html#here">an anchor</a>',
            '<a href="#top">this page</a>', '<img alt="inline" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">']
    bad = {'<a href="../outside.html">': "leaves the report's folder", '<a href="missing.html">': "leads to no file",
           '<a href="https://example.com/">': "leaves the report (https:)",
           '<a href="tests/other.html#gone">': "no element has the id 'gone'",
           '<a href="#nowhere">': "no element has the id 'nowhere'",
           '<a href="../../etc/hostname">': "leaves the report's folder"}
    page = report / "index.html"
    page.write_text('<!DOCTYPE html><html><body id="top">' + "".join(good)
                    + "".join(f"{tag}link</a>" for tag in bad) + "</body></html>", encoding="utf-8")
    view = browser.open(page, width=1280)
    problems = link_problems(view, report)
    assert len(problems) == len(bad), problems
    for (tag, why), problem in zip(bad.items(), problems):
        assert problem.startswith(tag) and why in problem, (tag, problem)
    with pytest.raises(AssertionError):
        assert_renders_cleanly(view, report)
    page.write_text('<!DOCTYPE html><html><body id="top">' + "".join(good) + "</body></html>", encoding="utf-8")
    assert link_problems(browser.open(page, width=1280), report) == []
