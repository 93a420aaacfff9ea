"""Cold and warm start of ``gxsim run scenarios/island_demo.toml`` as process
wall time. Cold: an empty NUMBA_CACHE_DIR (everything compiles); warm: the
same cache dir again (compiled code loaded from cache). Target: warm < 5 s."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import record

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scenarios" / "island_demo.toml"
CPU: list[float] = []  # child CPU seconds (user + sys) of each run


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("numba_cache")


def _run(cache, out):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-m", "sim.cli", "run", str(DEMO), "-o", str(out)]
    t0 = time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
    return time.perf_counter() - t0


def test_gxsim_run_cold(benchmark, cache_dir, tmp_path):
    benchmark.pedantic(lambda: _run(cache_dir, tmp_path / "cold"), rounds=1, iterations=1)
    record(benchmark, "gxsim_run", cold_s=benchmark.stats.stats.min, cold_cpu_s=CPU[-1])


def test_gxsim_run_warm(benchmark, cache_dir, tmp_path):
    if not any(cache_dir.rglob("*.nbi")):
        _run(cache_dir, tmp_path / "fill")  # the cold test was not selected
    rounds = iter(range(3))  # a fresh folder per round: gxsim refuses to overwrite a run
    benchmark.pedantic(lambda: _run(cache_dir, tmp_path / f"warm{next(rounds)}"),
                       rounds=3, iterations=1)
    record(benchmark, "gxsim_run", warm_s=benchmark.stats.stats.min, warm_cpu_s=min(CPU[-3:]),
           meets_warm=benchmark.stats.stats.min < 5)


def test_synthetic_default_year(benchmark):
    """The embedded synthetic weather year (built on every run without a weather
    file); was a timing assertion (< 1 s) in the unit tests, measured here instead."""
    from sim.inputs.weather import synthetic_year

    benchmark(synthetic_year, latitude=31.0, longitude=130.0, year=2031)
