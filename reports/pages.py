"""The report's pages: ``index.html`` (the parity heat map, the curriculum index, the conventions and the
environment), one ``model-NAME.html`` per model, ``idioms.html`` (the frameworks' loops, optimizers and losses
side by side), one ``study-NAME.html`` per study, and ``tests/<file>.html``, a copy of each test file the
conventions cite.  Each is a list of sections rendered on its own, self-contained, linked to the others by
relative links that stay inside the report's folder."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reports.cited_tests import cited, listing, page_of
from reports.conventions import conventions
from reports.curriculum import models_table, studies_table
from reports.document import (Folded, Section, Text, code_section, conventions_section, environment_section,
                              model_page, model_section, parity_table, study_page, study_section)
from reports.heatmap import parity_heatmap
from reports.idioms import PAGE as IDIOMS, idioms_sections
from reports.run import TRAIN_DTYPE, ModelReport, StudyReport, parity_plan

INDEX = "index.html"


@dataclass
class Page:
    filename: str  # relative to the report's folder
    title: str
    sections: list[Section]
    in_nav: bool = True  # listed in every page's navigation (the copied test files are not)


def build_pages(reports: list[ModelReport], plots: dict[str, list[Path]], env: dict[str, str], quick: bool,
                studies: list[StudyReport] = ()) -> list[Page]:
    """Every page, the index first; ``plots`` maps each model and ``"study NAME"`` to its PNG files."""
    pages = [Page(INDEX, "", index_sections(reports, env, quick, studies))]
    pages += [Page(model_page(r.model), r.model, [model_section(r, plots.get(r.model, [])), code_section(r.model)])
              for r in reports]
    if reports:
        pages.append(Page(IDIOMS, "idioms", idioms_sections([r.model for r in reports])))
    models = {page.filename for page in pages}
    pages += [Page(study_page(s.study), f"study {s.study}",
                   [study_section(s, plots.get(f"study {s.study}", []), models)]) for s in studies]
    tests = cited([c.test for c in conventions()[1] if c.test])
    pages += [Page(page_of(path), path, [Section(path, "listing", [listing(path)])], in_nav=False) for path in tests]
    return pages


def index_sections(reports: list[ModelReport], env: dict[str, str], quick: bool,
                   studies: list[StudyReport]) -> list[Section]:
    mode = ("a quick run (a few steps on small data)" if quick else
            "a full run (the declarations' epochs; on their embedded data the heaviest models train within the "
            "report's budget, as their pages say)")
    ran = "; ".join(f"{dtype} rungs {', '.join(map(str, rungs))}" for dtype, rungs in parity_plan(quick))
    heat = [Text("Each cell is log10(measured maximum ÷ tolerance) for one rung of the parity ladder and one pair "
                 "of frameworks: below 0 passes, −3 means a thousand times inside the tolerance, “=” "
                 "means bit-for-bit equal, red fails, grey is reported without a tolerance. Hover a cell for its "
                 f"figures; every model's table is folded below the map. This report ran {ran} (the float32 "
                 "trajectory has no tolerance, it drifts by design; triptych parity --dtype float32 shows it)."),
            parity_heatmap(reports, lambda model: f"{model_page(model)}#parity")]
    heat += [Folded(f"{r.model}: every figure ({'{}/{} checks pass'.format(*r.parity_counts)})", [parity_table(r)])
             for r in reports if r.parity]
    curriculum = [Text(f"This is {mode}: every model trained in {TRAIN_DTYPE} in the three frameworks from identical "
                       "initial weights (scratch's, copied into torch and keras) on the same batches. Each name "
                       "opens the model's page: its figures, plots, parity ladder and the three files side by side, "
                       "section by section, with the shared code each stands on. The idioms page sets the three "
                       "frameworks' training loops, optimizers and losses side by side, model by model."),
                  models_table(reports)]
    if studies:
        curriculum.append(studies_table(studies))
    return [Section("Parity at a glance", "parity", heat), Section("Curriculum", "curriculum", curriculum),
            conventions_section(), environment_section(env, reports)]
