"""The section markers of a model's three files, and the report's section-aligned view of them.

Every model file carries the same comment lines, once each and in this order (docs/adding-a-model.md):

    # ---- data            # ---- model           # ---- loss
    # ---- optimizer       # ---- training        # ---- conversion

each optionally followed by ``: some words``.  A section runs from its marker to the next one; what
precedes the first marker (docstring, imports) is the file's header.  The report shows one row per
section and one column per framework, so the same step is read three ways side by side.
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

from triptych.frameworks import FRAMEWORKS
from triptych.frameworks import PACKAGES
from triptych.registry import ModelSpec
from reports.conventions import ROOT
from reports.shared_code import Definition, stands_on

SECTIONS = ("data", "model", "loss", "optimizer", "training", "conversion")
MARKER = re.compile(r"^[ \t]*# ---- (\w+)(?::[ \t]*(.*?))?[ \t]*$")


@dataclass
class Sections:
    """One file cut at its markers: ``header`` (text before the first marker), ``parts`` {name: text from
    the marker line to the next marker}, ``spans`` {name: (first, last) line numbers, 1-based, inclusive}
    and ``problems`` (missing, repeated, unknown or misordered markers)."""

    header: str
    parts: dict[str, str]
    problems: list[str] = field(default_factory=list)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)


def split_sections(text: str) -> Sections:
    """Cut ``text`` at its ``# ---- NAME`` lines; every deviation from SECTIONS, once each, in order, is a problem."""
    lines = text.splitlines()
    starts = [(i, m.group(1)) for i, m in ((i, MARKER.match(line)) for i, line in enumerate(lines)) if m]
    problems = [f"unknown section marker '# ---- {name}' on line {i + 1}; expected one of {', '.join(SECTIONS)}"
                for i, name in starts if name not in SECTIONS]
    names = [name for _, name in starts if name in SECTIONS]
    problems += [f"'# ---- {name}' appears {names.count(name)} times" for name in SECTIONS if names.count(name) > 1]
    problems += [f"no '# ---- {name}' marker" for name in SECTIONS if name not in names]
    ordered = [name for name in SECTIONS if name in names]
    if list(dict.fromkeys(names)) != ordered:
        problems.append(f"markers in the order {', '.join(dict.fromkeys(names))}; expected {', '.join(ordered)}")
    bounds = [i for i, _ in starts] + [len(lines)]
    parts: dict[str, str] = {}
    spans: dict[str, tuple[int, int]] = {}
    for (begin, name), end in zip(starts, bounds[1:]):
        if name in SECTIONS and name not in parts:
            parts[name] = "\n".join(lines[begin:end]).strip("\n")
            spans[name] = (begin + 1, end)
    header = "\n".join(lines[:bounds[0]]).strip("\n")
    return Sections(header, parts, problems, spans)


def source_path(spec: ModelSpec, framework: str) -> Path | None:
    """The file that implements ``spec`` in ``framework`` (found without importing it), or None."""
    target = spec.modules.get(framework, f"{PACKAGES[framework]}.{spec.name}")
    if not isinstance(target, str):
        origin = getattr(target, "__file__", None)
    else:
        try:
            found = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            found = None
        origin = found.origin if found else None
    return Path(origin) if origin and Path(origin).is_file() else None


def shown_path(path: Path | None, root: Path = ROOT) -> str:
    """A source path as the reader finds it: relative to the repository when inside it, else its name."""
    if path is None:
        return "—"
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name


@dataclass
class CodeFile:
    framework: str
    path: str  # as shown: relative to the repository when inside it
    sections: Sections | None  # None when the file does not exist
    stands_on: list[Definition] = field(default_factory=list)  # the shared project code it uses


@dataclass
class AlignedCode:
    """A model's three files cut into the same sections (a report block).  ``sections``: the ones shown, in
    order; ``whole``: with the file headers and the shared code each file stands on (a model's page), or
    only the sections (the idioms page)."""

    model: str
    files: list[CodeFile]
    sections: tuple[str, ...] = SECTIONS
    whole: bool = True
    anchor: str | None = "code"  # section headings get ids "<anchor>-<section>"; None: no ids

    @property
    def problems(self) -> list[str]:
        return [f"{f.path}: {p}" for f in self.files if f.sections for p in f.sections.problems]


def aligned_code(spec: ModelSpec, sections: tuple[str, ...] = SECTIONS, whole: bool = True,
                 anchor: str | None = "code") -> AlignedCode:
    """The three files of ``spec``, read now and cut at their markers (with what each stands on if ``whole``)."""
    files = []
    for framework in FRAMEWORKS:
        path = source_path(spec, framework)
        if path is None:
            files.append(CodeFile(framework, f"{PACKAGES[framework]}/{spec.name}.py", None))
        else:
            files.append(CodeFile(framework, shown_path(path), split_sections(path.read_text(encoding="utf-8")),
                                  stands_on(path) if whole else []))
    return AlignedCode(spec.name, files, sections, whole, anchor)
