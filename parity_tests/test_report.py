"""The report (``triptych report --quick``): every file with every figure, a well-formed page that
needs nothing from the network, the real source code side by side, and a failing framework
reported while everything else still is."""
from __future__ import annotations

import base64
import contextlib
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from triptych.cli import main
from triptych.frameworks import FRAMEWORKS, get_framework
from triptych.registry import MODELS
from reports.conventions import conventions, has_test
from reports.generate import main_report

ROOT = Path(__file__).resolve().parents[1]
QUICK_MODELS = ["xor", "linreg"]
QUICK_STUDIES = ["house"]
PAIRS = ["scratch↔torch", "scratch↔keras", "torch↔keras"]
KEY_METRIC = {"xor": "test accuracy", "linreg": "test rmse", "house_mlp": "test rmse", "mnist_cnn": "test accuracy",
              "lstm": "test accuracy", "rnn": "test accuracy", "gru": "test accuracy"}
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


@pytest.fixture(scope="module")
def page(report):
    return Page((report[0] / "index.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def results(report):
    return pd.read_csv(report[0] / "results.csv")


def test_quick_report_passes_and_writes_every_file(report):
    out, code, stdout = report
    assert code == 0, stdout
    for name in ("index.html", "report.md", "results.csv", "results.json",
                 *(f"{m}_loss{s}.png" for m in QUICK_MODELS for s in ("", "_difference"))):
        assert (out / name).is_file(), name
    assert (out / "xor_loss.png").read_bytes().startswith(b"\x89PNG")


def test_progress_lines_and_summary_with_the_page_to_open(report):
    out, _, stdout = report
    assert re.search(r"^\[\d+/11\] xor · torch: training epoch 200/200", stdout, re.MULTILINE)
    assert "[10/11] linreg · parity float32" in stdout
    assert "[11/11] study house" in stdout
    assert f"open {out.resolve() / 'index.html'}" in stdout
    assert re.search(r"total time \d+\.\d s", stdout)


def test_csv_has_every_model_framework_and_pair(results):
    for model in QUICK_MODELS:
        for fw in FRAMEWORKS:
            rows = results[(results.model == model) & (results.framework == fw)].set_index("metric")["value"]
            assert {KEY_METRIC[model], "test loss", "parameters", "ms per training step", "training samples per s",
                    "inference samples per s", "inference time ratio to fastest"} <= set(rows.index)
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


def test_a_failing_study_is_reported_and_the_models_still_are(tmp_path, monkeypatch, capsys):
    from triptych.registry import StudySpec, register_study

    def broken(frameworks, quick=False, progress=None):
        raise RuntimeError("injected study failure")

    register_study(StudySpec("broken_study", "a study that raises", broken))
    try:
        assert main_report(tmp_path, quick=True, models=["xor"], progress=False, studies=["broken_study"]) == 1
    finally:
        from triptych.registry import STUDIES
        STUDIES._items.pop("broken_study")
    assert "study broken_study FAILED" in " ".join(capsys.readouterr().out.split())
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["models"]["xor"]["ok"] and not data["meta"]["ok"]
    assert "injected study failure" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_html_is_well_formed(page):
    assert page.errors == []
    assert page.open == []


def test_html_is_self_contained(report, page):
    out = report[0]
    images = [value for tag, name, value in page.urls if tag == "img"]
    assert len(images) == 2 * len(QUICK_MODELS) + len(QUICK_STUDIES)
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    for tag, name, value in page.urls:
        if tag == "img":
            continue
        assert not re.match(r"\w+:", value), value  # no http(s):, file: or other scheme
        if value.startswith("#"):
            assert value[1:] in page.ids, value
        else:  # relative links only to the repository's tests
            target = (out / value).resolve()
            assert target.parent == ROOT / "parity_tests" and target.name.startswith("test_"), value
            assert target.is_file(), value
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and "@import" not in html


def test_conventions_link_tests_that_exist(page):
    tests = [(href, text) for href, text in page.links if "::" in text]
    assert len(tests) == len(conventions()[1])  # every row of the README's table
    for href, node_id in tests:
        assert node_id.partition("::")[0].endswith(Path(href).name)
        assert has_test(node_id), node_id
    assert any("test_adam_epsilon_defaults_and_placement_differ" in node for _, node in tests)


def distinctive_line(path: Path, others: list[Path]) -> str:
    """The longest line of ``path`` that appears in none of ``others``."""
    seen = {line.strip() for other in others for line in other.read_text(encoding="utf-8").splitlines()}
    return max((line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() not in seen), key=len)


def test_code_side_by_side_is_read_from_the_source_files(page):
    text = page.all_text
    for model in QUICK_MODELS:
        files = [ROOT / d / f"{model}.py" for d in SOURCE_DIRS]
        for file in files:
            line = distinctive_line(file, [f for f in files if f != file])
            assert len(line) > 20 and line in text, (file, line)


def test_a_failing_framework_is_reported_and_the_rest_still_is(tmp_path, monkeypatch, capsys):
    torch_fw = get_framework("torch")
    real_train = torch_fw.train

    def train(net, *args, **kwargs):
        if net.model == "linreg":
            raise RuntimeError("injected failure for the report test")
        return real_train(net, *args, **kwargs)

    monkeypatch.setattr(torch_fw, "train", train)
    assert main_report(tmp_path, quick=True, models=["linreg", "house_mlp"], progress=False, studies=[]) == 1
    assert "torch · training: RuntimeError: injected failure" in capsys.readouterr().out
    page = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert page.errors == [] and "injected failure for the report test" in page.all_text
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<details>" in html and "Traceback (most recent call last)" in page.all_text
    results = pd.read_csv(tmp_path / "results.csv")
    trained = results[results.metric == "test rmse"].groupby("model").framework.apply(set).to_dict()
    assert trained == {"linreg": {"scratch", "keras"}, "house_mlp": set(FRAMEWORKS)}
    assert (tmp_path / "house_mlp_loss.png").is_file() and (tmp_path / "linreg_loss_difference.png").is_file()
    data = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert data["models"]["house_mlp"]["ok"] and not data["models"]["linreg"]["ok"]
    assert "**FAILED — torch · training**" in (tmp_path / "report.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_quick_report_on_all_five_models(tmp_path):
    assert main_report(tmp_path, quick=True, models=list(MODELS), progress=False) == 0
    results = pd.read_csv(tmp_path / "results.csv")
    for model in MODELS:
        assert set(results[results.metric == KEY_METRIC[model]].query("model == @model").framework) == set(FRAMEWORKS)
