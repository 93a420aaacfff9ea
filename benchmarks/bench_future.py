"""Speed of the 2030–2050 study: the island demo, 7 years x 3 variants.

Every year and variant is a full hourly simulation through the kernel (21
runs of 12 consumers x 8760 h). Run with
``python -m pytest benchmarks/bench_future.py --benchmark-only``.
Compilation (numba) and the base-year inputs (weather, pvlib) are done once
in the fixture; ``test_future_demo_with_inputs`` also times building them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.core.engine import build_inputs
from sim.studies.future import future

DEMO = Path(__file__).resolve().parents[1] / "scenarios" / "island_demo.toml"


@pytest.fixture(scope="module")
def demo():
    scenario = sim.load_scenario(DEMO)
    inputs = build_inputs(scenario)
    future(scenario, inputs=inputs, years=[2030], variants=["reference"])  # compile, warm up
    return scenario, inputs


def test_future_demo_7_years_3_variants(benchmark, demo):
    scenario, inputs = demo
    study = benchmark.pedantic(future, args=(scenario,), kwargs={"inputs": inputs},
                               rounds=5, iterations=1, warmup_rounds=1)
    assert study.dataset.sizes["year"] == 7 and study.dataset.sizes["variant"] == 3


def test_future_demo_with_inputs(benchmark, demo):
    scenario, _ = demo
    study = benchmark.pedantic(future, args=(scenario,), rounds=2, iterations=1)
    assert study.dataset.sizes["year"] == 7
