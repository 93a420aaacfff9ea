"""Documentation that runs: the README's Python blocks, in order, as a user would."""

import re

import pytest

from conftest import ROOT


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_readme_python_blocks_run(monkeypatch, tmp_path):
    blocks = python_blocks(ROOT / "README.md")
    assert len(blocks) >= 3
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the repository
    namespace: dict = {}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"README.md python block {i + 1} failed: {exc!r}")
    assert namespace["out"]["grid"].shape == (2, 24)


def test_figures_doc_python_blocks_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for i, block in enumerate(python_blocks(ROOT / "docs" / "figures.md")):
        exec(compile(block, f"docs/figures.md python block {i + 1}", "exec"), namespace)
    assert "ev" in namespace
