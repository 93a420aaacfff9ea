"""Where the shipped data (``profiles/``) is.

In a source checkout (and an editable install) the data is the repository's
top-level ``profiles/`` folder; a wheel installs the same files as
``sim/profiles``. Modules ask here instead of guessing relative paths.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the sim/ folder


def profiles_dir() -> Path:
    """The folder of shipped data: demand shapes, population, finance, rubric, weather."""
    installed = _PACKAGE / "profiles"
    return installed if installed.is_dir() else _PACKAGE.parent / "profiles"


PROFILES: Path = profiles_dir()
