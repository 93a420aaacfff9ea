"""Speed of batch sweeps: 1,000 cases of scenarios/island_demo.toml.

Scenario-years per second of ``sim.sweep`` (profiles once, the compiled
batch kernel over chunks of cases, then the evaluation's figures per case)
against the same cases one by one through ``sim.simulate`` + ``sim.evaluate``
(a sample of them, extrapolated). Run with::

    python -m pytest benchmarks/bench_sweep.py --benchmark-only -s

The ratio is printed by the last test (run the whole file, ``-s``).
numba compilation is done once in the fixture.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.core.engine import build_inputs

sw = importlib.import_module("sim.studies.sweep")  # the module; sim.studies.sweep is the function

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "island_demo.toml"
SAMPLE = 8  # cases run one by one through sim.simulate (extrapolated to all)
RATES: dict[str, float] = {}


@pytest.fixture(scope="module")
def demo():
    scenario = sim.load_scenario(DEMO)
    cases = sw.make_cases(scenario)
    assert cases.n == 1000
    inputs = build_inputs(scenario)
    base = sw.Base.build(scenario, inputs)
    sw.compute_chunk(base, cases.params, cases.values[:4])  # compile, warm up
    return scenario, cases, inputs, base


def test_sweep_1000_cases_end_to_end(benchmark, demo):
    """sim.studies.sweep.run in memory: build_inputs once, 1,000 cases, the Dataset."""
    scenario, cases, _, _ = demo
    result = benchmark.pedantic(sw.run, args=(scenario,), kwargs={"progress": False},
                                rounds=2, iterations=1)
    assert result.dataset.attrs["n_cases"] == 1000
    RATES["sweep"] = cases.n / benchmark.stats.stats.min
    benchmark.extra_info["scenario_years_per_s"] = RATES["sweep"]


def test_sweep_1000_cases_kernel_only(benchmark, demo):
    """The batch kernel and per-case annual figures, without the evaluation."""
    _, cases, _, base = demo

    def kernel_only():
        for a in range(0, cases.n, 100):
            sw.compute_chunk(base, cases.params, cases.values[a:a + 100], evaluate=False)

    benchmark.pedantic(kernel_only, rounds=3, iterations=1)
    RATES["kernel"] = cases.n / benchmark.stats.stats.min
    benchmark.extra_info["scenario_years_per_s"] = RATES["kernel"]


def test_one_by_one_through_simulate(benchmark, demo):
    """A sample of the same cases through sim.simulate + sim.programme.evaluate, each
    scenario rebuilt as a user would (weather, pvlib, demand every time)."""
    scenario, cases, _, _ = demo
    rng = np.random.default_rng(0)
    pick = rng.choice(cases.n, SAMPLE, replace=False)
    scenarios = [sw.apply_case(scenario, cases.params, cases.values[i]) for i in pick]

    def one_by_one():
        for sc in scenarios:
            sim.evaluate(sim.simulate(sc))

    benchmark.pedantic(one_by_one, rounds=2, iterations=1)
    RATES["simulate"] = SAMPLE / benchmark.stats.stats.min
    benchmark.extra_info["scenario_years_per_s"] = RATES["simulate"]
    benchmark.extra_info["extrapolated_1000_cases_s"] = 1000 / RATES["simulate"]
    _report()


def _report():
    """Print the rates and the ratio (the file's tests run in order)."""
    if "sweep" not in RATES:
        return
    ratio = RATES["sweep"] / RATES["simulate"]
    print(f"\nsim.sweep (end to end):   {RATES['sweep']:8.1f} scenario-years/s"
          f"\nbatch kernel only:        {RATES.get('kernel', float('nan')):8.1f} "
          f"scenario-years/s\none by one (simulate):    {RATES['simulate']:8.2f} "
          f"scenario-years/s\nratio sweep / one by one: {ratio:8.0f}x")
    assert ratio > 10


if __name__ == "__main__":  # pragma: no cover - quick manual run
    t = time.perf_counter()
    sw.run(sim.load_scenario(DEMO), progress=True)
    print(f"{1000 / (time.perf_counter() - t):.1f} scenario-years/s (incl. compile)")
