"""Documentation that runs and points only inside the repository.

* the Python blocks of README.md and of every page in docs/ run, in order, as a
  user would run them;
* every relative link of a Markdown file, and every ``*.md`` path cited in any
  text file (docstrings, comments, CSV notes), resolves to a file inside the
  repository; nothing points outside it (no ``../shared``);
* docs/scenario.md is the output of its generator, not a stale copy.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

TEXT_SUFFIXES = {".md", ".py", ".toml", ".csv", ".txt", ".cfg", ".ini", ".yml", ".yaml"}
#: a Markdown link target: [text](target)
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
#: a cited document: a path of word characters, dots, slashes and dashes ending in .md
CITED_DOC = re.compile(r"(?<![\w/.-])((?:\.{1,2}/)*[\w][\w./-]*\.md)\b")


#: first line of a block that is too slow for the suite (it says why)
NOT_RUN = "# not run by tests/test_docs.py:"


def python_blocks(path, *, runnable: bool = True):
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if not (runnable and b.startswith(NOT_RUN))]


def repository_files() -> list[Path]:
    """Text files of the repository (git's list when there is one, else a walk)."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        paths = [ROOT / p for p in out.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if not any(
            part.startswith(".") or part in ("results", "build") for part in
            p.relative_to(ROOT).parts)]
    return sorted(p for p in paths if p.suffix in TEXT_SUFFIXES and p.is_file())


def _inside(path: Path) -> bool:
    try:
        path.resolve().relative_to(ROOT)
        return True
    except ValueError:
        return False


def link_problems(path: Path, text: str | None = None) -> list[str]:
    """Links and cited documents of one file that do not resolve inside the repository."""
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    rel = path.relative_to(ROOT)
    problems = []
    if path.suffix == ".md":
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL or an anchor on the same page
            target = target.split("#")[0]
            dest = path.parent / target
            if not (_inside(dest) and dest.exists()):
                problems.append(f"{rel}: link ({target}) does not resolve inside the repository")
    if path.suffix == ".py":  # Markdown a generator writes links from docs/, not from here
        text = LINK.sub("", text)
        # a path built in code, ROOT / "docs" / "figures.md", is checked by its test
        text = re.sub(r"""/\s*["'][\w.-]+\.md["']""", "", text)
    for cited in set(CITED_DOC.findall(text)):
        # a cited document resolves from the citing file's folder (Markdown's rule)
        # or from the repository root (how docstrings cite docs/design.md)
        candidates = [path.parent / cited, ROOT / cited]
        if not any(_inside(c) and c.exists() for c in candidates):
            problems.append(f"{rel}: cites {cited!r}, which is not a file of the repository")
    if "../shared" in text:
        problems.append(f"{rel}: refers to ../shared, outside the repository")
    return problems


def test_links_and_cited_docs_resolve_inside_the_repository():
    files = repository_files()
    assert any(p.name == "README.md" for p in files)
    problems = [msg for p in files if p != Path(__file__).resolve()
                for msg in link_problems(p)]
    assert not problems, "\n".join(problems)


def test_link_checker_catches_what_it_should():
    """The checker itself, on a file that would sit in sim/: a link leaving the
    repository, a bare citation that does not resolve from there, a missing doc."""
    text = ("[out](../../shared/docs/design.md) see rules.md and docs/nothing.md; "
            "fine: [in](../docs/design.md), docs/design.md, README.md of the root\n")
    problems = link_problems(ROOT / "sim" / "probe.md", text)
    joined = "\n".join(problems)
    assert "link (../../shared/docs/design.md)" in joined
    assert "cites 'rules.md'" in joined
    assert "cites 'docs/nothing.md'" in joined
    assert "refers to ../shared" in joined
    assert "../docs/design.md" not in joined.replace("../../shared/docs/design.md", "")
    assert "'docs/design.md'" not in joined and "README.md" not in joined


def test_readme_python_blocks_run(monkeypatch, tmp_path):
    blocks = python_blocks(ROOT / "README.md")
    assert len(blocks) >= 2
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the repository
    namespace: dict = {}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"README.md python block {i + 1} failed: {exc!r}")


@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "docs").glob("*.md")))
def test_docs_python_blocks_run(monkeypatch, page):
    skipped = [b for b in python_blocks(ROOT / "docs" / page, runnable=False)
               if b.startswith(NOT_RUN)]
    for b in skipped:  # a skipped block still has to be valid Python and say why
        compile(b, f"docs/{page}", "exec")
        assert len(b.splitlines()[0]) > len(NOT_RUN) + 10
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for i, block in enumerate(python_blocks(ROOT / "docs" / page)):
        try:
            exec(compile(block, f"docs/{page} python block {i + 1}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"docs/{page} python block {i + 1} failed: {exc!r}")


def test_scenario_reference_is_current():
    """docs/scenario.md is what `python -m sim.report.reference` writes today."""
    from sim.report.reference import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/scenario.md is stale: run `python -m sim.report.reference`")


def test_scenario_reference_covers_every_field():
    """Every field of every model reachable from Scenario and Claim has a row."""
    from pydantic import BaseModel

    from sim.inputs.claim import Claim
    from sim.inputs.scenario import Scenario

    text = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    seen, todo = set(), [Scenario, Claim]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in text, f"{model.__name__}.{name} is not in docs/scenario.md"
            todo += [m for m in re.findall(r"[A-Za-z_]\w*", repr(field.annotation))
                     for m in [getattr(__import__(model.__module__, fromlist=["x"]), m, None)]
                     if isinstance(m, type) and issubclass(m, BaseModel)]
    assert len(seen) > 25
    for phrase in ('site = "community"', "[grid] isolated", "load factor"):
        assert phrase in text


def test_every_module_is_reachable_after_import_sim():
    """``import sim`` then ``sim.<package>.<module>`` works for every module (a fresh
    interpreter, so nothing was imported before)."""
    names = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts)
                   for p in (ROOT / "sim").rglob("*.py")
                   if p.name not in ("__init__.py", "__main__.py"))
    code = ("import functools, sim\n"
            f"for n in {names!r}:\n"
            "    functools.reduce(getattr, n.split('.')[1:], sim)\n"
            "print(len(sim.accounting.__name__) > 0, sim.report.html.render_page.__name__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "render_page"]
    assert len(names) >= 40
