"""What a model file stands on: the project's own classes, functions and values it uses from the framework
packages and from ``triptych/`` (``from scratch.layers import Dense``; ``from torch_impl import training``
then ``training.Run``), found in the syntax trees without importing anything, each with its source, and
what each of those uses in turn, ``DEPTH`` levels down (the scratch ``Dense`` layer → its ``WeightMultiply``
and ``BiasAdd`` operations), every definition shown once, where it is first reached.  The core's own code
(``triptych/``: loaders, the sampler) is shown where a file uses it but not opened further: what a loader
calls to read its files is not part of the lesson.

    stands_on(Path("keras_impl/xor.py"))   # [Definition("training.shared_batches", "keras_impl/training.py", …), …]

A name re-exported by a module (imported there from elsewhere) is followed to the file that defines it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from triptych.frameworks import PACKAGES
from reports.conventions import ROOT

CORE = "triptych"
PROJECT = (CORE, *PACKAGES.values())  # the packages whose code a model file may stand on
DEPTH = 2  # levels of definitions below the file: what it uses, and what those use
FOLLOW = 4  # re-export hops followed before giving up


@dataclass
class Definition:
    name: str  # as the user writes it: "Dense", "training.Run"
    path: str  # the defining file, relative to the repository
    line: int  # its first line there (decorators included)
    kind: str  # "class" | "function" | "value"
    source: str
    uses: list["Definition"] = field(default_factory=list)  # what it stands on in turn (to DEPTH)

    @property
    def key(self) -> tuple[str, int]:
        return self.path, self.line


@dataclass
class _Scope:
    """A module's top-level names that lead to project code: ``names`` {local: (module, name)} and
    ``modules`` {local: project module} for ``from pkg import module`` / ``import a.b as c``."""

    names: dict[str, tuple[str, str]]
    modules: dict[str, str]


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The file of a project module (``a.b`` → a/b.py or a/b/__init__.py), or None outside the project."""
    if module.split(".")[0] not in PROJECT:
        return None
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=None)
def _parsed(path: Path) -> tuple[ast.Module, list[str]]:
    text = path.read_text(encoding="utf-8")
    return ast.parse(text), text.splitlines()


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _scope(path: Path, root: Path, own: bool) -> _Scope:
    """The names of ``path`` that lead to project code; ``own``: its own top-level definitions count too."""
    tree, _ = _parsed(path)
    here = _module_name(path, root) if path.is_relative_to(root) else None
    names, modules = {}, {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and module_file(node.module, root):
            for alias in node.names:
                local, sub = alias.asname or alias.name, f"{node.module}.{alias.name}"
                if module_file(sub, root) and sub != node.module:
                    modules[local] = sub
                else:
                    names[local] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and module_file(alias.name, root):
                    modules[alias.asname] = alias.name
    if own and here:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.setdefault(node.name, (here, node.name))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                for name in _targets(node):
                    names.setdefault(name, (here, name))
    return _Scope(names, modules)


def _targets(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _find(module: str, name: str, shown: str, root: Path, hops: int = FOLLOW) -> tuple[Definition, ast.AST] | None:
    """The top-level def, class or assignment of ``name`` in ``module``, following re-exports."""
    path = module_file(module, root)
    if path is None or hops < 0:
        return None
    tree, lines = _parsed(path)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and name in _targets(node):
            first, kind = node.lineno, "value"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            alias = next((a for a in node.names if (a.asname or a.name) == name), None)
            if alias is None:
                continue
            return _find(node.module, alias.name, shown, root, hops - 1)
        else:
            continue
        source = "\n".join(lines[first - 1:node.end_lineno])
        return Definition(shown, path.relative_to(root).as_posix(), first, kind, source), node
    return None


def _used(node: ast.AST, scope: _Scope) -> list[tuple[int, int, str, str, str]]:
    """(line, column, module, name, shown) for every project name ``node`` uses, in reading order."""
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in scope.modules:
            found.append((n.lineno, n.col_offset, scope.modules[n.value.id], n.attr, f"{n.value.id}.{n.attr}"))
        elif isinstance(n, ast.Name) and n.id in scope.names:
            found.append((n.lineno, n.col_offset, *scope.names[n.id], n.id))
        elif isinstance(n, ast.ImportFrom) and n.module in {m for m, _ in scope.names.values()}:
            found += [(n.lineno, n.col_offset, n.module, a.name, a.asname or a.name) for a in n.names
                      if (a.asname or a.name) in scope.names]
    return sorted(found)


def stands_on(path: Path, root: Path = ROOT, depth: int = DEPTH) -> list[Definition]:
    """The project definitions ``path`` uses, each once, in the order the file first names them, each with
    what it uses in turn down to ``depth`` levels (a definition already shown higher up is not repeated)."""
    seen: set[tuple[str, int]] = set()
    tree, _ = _parsed(path)
    return _expand(tree, _scope(path, root, own=False), root, depth, seen)


def _expand(node: ast.AST, scope: _Scope, root: Path, depth: int, seen: set) -> list[Definition]:
    if depth <= 0:
        return []
    level = []
    for _, _, module, name, shown in _used(node, scope):
        found = _find(module, name, shown, root)
        if found is None or found[0].key in seen:
            continue
        definition, body = found
        seen.add(definition.key)
        level.append((definition, body))
    for definition, body in level:  # breadth first: what the file names directly is shown at the top
        if definition.path.split("/")[0] != CORE:
            definition.uses = _expand(body, _scope(root / definition.path, root, own=True), root, depth - 1, seen)
    return [definition for definition, _ in level]
