"""Shared set-up of the benchmark suite (not part of the unit tests).

* collects ``bench_*.py`` (pyproject's ``testpaths`` is ``tests``, so the main
  ``python -m pytest`` never sees this folder);
* ``record`` keeps every figure of the run in one place, so that ratios are
  taken between measurements of the same run, and stores it in the
  benchmark's ``extra_info``;
* at the end, prints the figures and ratios and writes them with the machine's
  description to ``benchmarks/results/latest.json`` (read by ``plot.py``).

Timings are never asserted: machines are noisy; the ratios are reported.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (HERE, ROOT / "tests"):  # regions.py / baselines.py, tests/reference.py
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

#: every figure of this run: key -> dict
RESULTS: dict[str, dict] = {}


def pytest_collect_file(file_path, parent):
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def record(benchmark, key: str, **figures) -> dict:
    """Keep ``figures`` under ``key`` for the summary and in ``extra_info``."""
    RESULTS.setdefault(key, {}).update(figures)
    if benchmark is not None:
        benchmark.extra_info.update(figures)
    return RESULTS[key]


def best_of(fn, repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls [s] (the least disturbed one)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numba

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"date": _dt.datetime.now().isoformat(timespec="minutes"),
            "nproc": os.cpu_count(), "cpu": model, "memory_gib": round(mem, 1),
            "numba_threads": numba.config.NUMBA_NUM_THREADS,
            "threading_layer": numba.config.THREADING_LAYER,
            "python": platform.python_version(), "numba": numba.__version__,
            "numpy": np.__version__, "load_average_at_end": os.getloadavg()}


@pytest.fixture(scope="session")
def warm_memory():
    """Touch a few GiB once before the large runs.

    On a fresh virtual machine the first touch of memory the guest has never
    used costs seconds per GiB (the host backs the pages lazily; we measured
    14 s for 2.8 GB, then 0.5 s). That is the machine, not gxsim: the large
    benchmarks ask for this fixture so that they measure the code. The time it
    took is reported as ``vm_first_touch_s``.
    """
    gib = float(os.environ.get("GXSIM_BENCH_WARM_GIB", "6"))
    t0 = time.perf_counter()
    if gib > 0:
        buf = np.ones(int(gib * 2**30) // 8)
        del buf
    RESULTS.setdefault("machine", {})["vm_first_touch_s"] = round(time.perf_counter() - t0, 2)
    RESULTS["machine"]["vm_first_touch_gib"] = gib


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    info = machine()
    RESULTS.setdefault("machine", {}).update(info)
    tr = terminalreporter
    tr.section("gxsim benchmark figures (this run)")
    for key, figures in RESULTS.items():
        shown = ", ".join(f"{k}={_fmt(v)}" for k, v in figures.items())
        tr.write_line(f"{key}: {shown}")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    path = out / "latest.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    # keep figures of benchmarks not selected this time, marked with their date
    merged = {**old, **RESULTS}
    path.write_text(json.dumps(merged, indent=1, ensure_ascii=False, default=str) + "\n")
    tr.write_line(f"written to {path.relative_to(ROOT)}")


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
