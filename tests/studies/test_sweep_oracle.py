"""Oracle of the vectorised sweep evaluation on the demo's sweep (issue 17): a
subset of its 1,000 cases, each chunk figure against the per-case path of
before (a Scenario, a labelled ledger and a DataFrame per case)."""

import importlib

import numpy as np
import pytest

from studies.sweep_oracle import assert_same_figures, kernel_totals, per_case_figures

sw = importlib.import_module("sim.studies.sweep")


@pytest.fixture(scope="module")
def demo_base(demo_scenario):
    from sim.core.engine import build_inputs

    return sw.Base.build(demo_scenario, build_inputs(demo_scenario))


def test_demo_sweep_chunk_equals_per_case_path(demo_scenario, demo_base):
    cases = sw.make_cases(demo_scenario)
    assert cases.n == 1000
    # 40 cases across the grid: every farm size, wind size and battery size,
    # the community battery absent (0 kWh) and at its largest
    pick = np.unique(np.r_[np.arange(0, 1000, 37), [0, 9, 990, 999, 455, 544]])
    values = cases.values[pick]
    assert len(np.unique(values[:, 2])) >= 8 and values[:, 2].min() == 0
    chunk = sw.compute_chunk(demo_base, cases.params, values)
    totals = kernel_totals(demo_base, cases.params, values)
    for c in range(len(values)):
        oracle = per_case_figures(demo_base, cases.params, values, chunk, c, totals)
        assert oracle["capex_jpy"] is not None and oracle["co2_reduction_t"] > 0
        assert assert_same_figures(chunk, oracle, c) >= 50
