"""The wheel carries every module and every shipped data folder.

pyproject.toml lists its packages by hand (profiles/ is mapped into the
package as ``sim.profiles``), so a new sub-package or data folder that is
not added there would work in the editable checkout and be missing from an
installed wheel. This compares the list with the folders on disk.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> set[str]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return set(tomllib.load(fh)["tool"]["setuptools"]["packages"])


def test_every_sim_package_is_declared():
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "sim").rglob("__init__.py")}
    missing = sorted(on_disk - _declared())
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"


def test_every_profiles_folder_is_declared():
    on_disk = {f"sim.profiles.{p.name}" for p in (ROOT / "profiles").iterdir()
               if p.is_dir() and not p.name.startswith((".", "_"))}
    declared = {name for name in _declared() if name.startswith("sim.profiles.")}
    assert on_disk == declared, ("pyproject.toml packages and profiles/ differ: "
                                 f"missing {sorted(on_disk - declared)}, "
                                 f"extra {sorted(declared - on_disk)}")
