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


def test_demo_chunk_equals_its_cases_one_by_one_to_the_bit(demo_scenario, demo_base):
    """The demo's cases share one on-site phase (only off-site plants and the
    community battery change) and take the small-ledger path: a chunk's kernel
    figures (per consumer flows, generator columns, ledger entries and the
    sweep's own figures) equal the same case computed alone (a chunk of one:
    nothing shared), bit for bit. The programme's figures are summed by numpy
    over the chunk's arrays, whose last bits depend on the chunk's shape
    (as before the groups): equal to 1e-13."""
    from sim.studies import batch

    cases = sw.make_cases(demo_scenario)
    values = cases.values[[0, 1, 2, 17, 18, 250, 251, 999]]
    k = sw.kernel_arrays(demo_base, cases.params, values)
    assert batch.onsite_groups(demo_base.site_index, k["demand_factor"], k["gen_scale"],
                               k["battery_kwh"], k["battery_kw"],
                               np.sqrt(k["efficiency"]))[2] == 1
    chunk = sw.compute_chunk(demo_base, cases.params, values)
    for c in range(len(values)):
        alone = sw.compute_chunk(demo_base, cases.params, values[c:c + 1])
        assert alone.keys() == chunk.keys()
        for name, a in alone.items():
            if name in sw.KPI_UNITS or name == "ledger" or "__" in name:
                np.testing.assert_array_equal(chunk[name][c], a[0], err_msg=name)
            elif a.dtype == bool:
                assert chunk[name][c] == a[0], name
            else:
                np.testing.assert_allclose(chunk[name][c], a[0], rtol=1e-13, err_msg=name)
