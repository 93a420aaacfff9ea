"""The package's layers: every import runs down, and no modules import each other.

``sim`` follows the data one way (docs/design.md, ``sim/__init__.py``)::

    cli -> report -> studies -> programme -> core -> physics -> inputs -> errors, io

Every module of ``sim/`` is parsed with :mod:`ast` (imports inside functions
count too); an import of a module in a higher layer, or a cycle between
modules, fails naming both modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
#: layer of each top-level part of ``sim``, lowest first
LAYERS = {"_version": 0, "errors": 0, "io": 0, "inputs": 1, "physics": 2, "core": 3, "programme": 4,
          "studies": 5, "report": 6, "cli": 7}
FACADE = "sim"  # sim/__init__.py gathers the public API from every layer


def module_name(path: Path) -> str:
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """``sim`` modules imported anywhere in the file (``from sim.x import y`` gives
    ``sim.x.y`` when that is a module, else ``sim.x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known
                     else node.module for a in node.names]
        else:
            continue
        out.update(n for n in names if n == "sim" or n.startswith("sim."))
    return out


def layer(name: str) -> int:
    if name == FACADE:
        return len(LAYERS)
    return LAYERS[name.split(".")[1]]


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: {i for i in imports_of(p, known) if i != m} for m, p in mods.items()}


def test_every_module_is_in_a_layer():
    for name in modules():
        assert name == FACADE or name.split(".")[1] in LAYERS, \
            f"{name}: not in a layer of sim (add its package to LAYERS and the docs)"


def test_imports_run_down_the_layers():
    bad = [f"{m} (layer {layer(m)}) imports {i} (layer {layer(i)})"
           for m, deps in graph().items() for i in sorted(deps) if layer(i) > layer(m)]
    assert not bad, "imports running up the layers:\n" + "\n".join(bad)


def test_no_import_cycles():
    g = graph()
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in g:
        if v not in index:
            visit(v)
    # a package's __init__ importing its own submodules is not a cycle of its own
    cycles = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") for x in c)]
    assert not cycles, "modules importing each other: " + "; ".join(
        " <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("source, expected", [
    ("from sim.report.run import x\n", "imports sim.report.run"),
])
def test_the_check_names_both_modules(tmp_path, monkeypatch, source, expected):
    """A planted upward import in a physics module is reported with both names."""
    fake = tmp_path / "sim"
    for part in ("physics", "report"):
        (fake / part).mkdir(parents=True)
        (fake / part / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "report" / "run.py").write_text("")
    (fake / "physics" / "solar.py").write_text(source)
    monkeypatch.setattr(__import__(__name__), "SIM", fake)
    with pytest.raises(AssertionError, match=f"sim.physics.solar .*{expected}"):
        test_imports_run_down_the_layers()


def test_a_cycle_is_named(tmp_path, monkeypatch):
    """Two core modules importing each other are reported as a cycle."""
    fake = tmp_path / "sim"
    (fake / "core").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "core" / "__init__.py").write_text("")
    (fake / "core" / "a.py").write_text("from sim.core.b import f\n")
    (fake / "core" / "b.py").write_text("def f():\n    from sim.core import a\n")
    monkeypatch.setattr(__import__(__name__), "SIM", fake)
    with pytest.raises(AssertionError, match=r"sim.core.a <-> sim.core.b"):
        test_no_import_cycles()
