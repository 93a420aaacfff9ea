"""Writing results whole or not at all.

Every command writes its results into a fresh temporary folder beside the
target and moves it into place only when everything is written, so an
interrupted run never leaves a partial result that looks whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_output_dir(target: str | Path):
    """Yield a temporary folder that replaces ``target`` once the block succeeds.

    Parameters
    ----------
    target : str or Path
        The output folder. An existing folder is replaced only after the new
        results are complete; on error it is left untouched and the
        temporary folder is removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path: str | Path, data) -> None:
    """Write ``data`` as UTF-8 JSON (numpy scalars converted, NaN as null)."""
    Path(path).write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
