"""A peer an engineer might reach for: the same one-consumer year with a
battery as a linear programme (linopy + HiGHS; ``pip install -e .[peers]``).

The LP minimises grid energy with perfect foresight of the year; gxsim applies
the rule of docs/design.md section 4 hour by hour (charge from surplus, discharge
into deficit). They answer different questions — the LP says what the best
possible dispatch could achieve, the simulation what the rule-based system
does — so the ratio is about cost per consumer-year, not about equal output;
both grid totals are stored next to it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import best_of, record
from regions import kernel_inputs

import sim

T = 8760


def _lp(d, g, e, p, efficiency):
    import linopy

    k = float(np.sqrt(efficiency))
    time = pd.RangeIndex(T, name="time")
    m = linopy.Model()
    ch = m.add_variables(lower=0, upper=p, coords=[time], name="charge")
    dis = m.add_variables(lower=0, upper=p, coords=[time], name="discharge")
    soc = m.add_variables(lower=0, upper=e, coords=[time], name="soc")
    grid = m.add_variables(lower=0, coords=[time], name="grid")
    spill = m.add_variables(lower=0, coords=[time], name="export")
    dd = pd.Series(d, index=time).to_xarray()
    gg = pd.Series(g, index=time).to_xarray()
    m.add_constraints(ch + spill - dis - grid == gg - dd, name="balance")
    # soc[t] = soc[t-1] + k charge - discharge / k, starting empty
    with warnings.catch_warnings():  # the shifted first hour is absent = empty start
        warnings.simplefilter("ignore")
        m.add_constraints(soc - soc.shift(time=1) - k * ch + (1 / k) * dis == 0, name="soc")
    m.add_objective(grid.sum() + 1e-6 * (ch.sum() + dis.sum()))
    status, _ = m.solve(solver_name="highs", output_flag=False)
    assert status == "ok", status
    return float(grid.solution.sum())


def test_lp_peer_one_consumer_year(benchmark):
    pytest.importorskip("linopy", reason="optional peer: pip install -e .[peers]")
    pytest.importorskip("highspy", reason="optional peer: pip install -e .[peers]")
    kw = kernel_inputs(4)  # consumer 0 has PV and a 6.5 kWh / 3 kW battery
    d, g = kw["demand"][0], kw["onsite"][0]
    e, p = float(kw["battery_kwh"][0]), float(kw["battery_kw"][0])
    grid_lp = benchmark.pedantic(lambda: _lp(d, g, e, p, 0.9), rounds=3, iterations=1)
    t_lp = benchmark.stats.stats.min

    # gxsim on the same consumer, alone (no pool), and per consumer-year in a
    # 1,000-consumer run, measured now
    one = sim.match(d[None, :], g[None, :], np.zeros(T), battery_kwh=[e], battery_kw=[p])
    big = kernel_inputs(1_000)
    bufs = sim.match(**big)
    t_kernel = best_of(lambda: sim.match(**big), 5) / 1_000
    # the steady state of a loop over many regions (sweeps, the 2030-2050 study):
    # output arrays reused, so no fresh pages are faulted in on every call
    t_reused = best_of(lambda: sim.match(**big, out=bufs), 5) / 1_000
    record(benchmark, "lp_peer", lp_seconds=t_lp, kernel_seconds_per_consumer_year=t_kernel,
           ratio=t_lp / t_kernel, kernel_seconds_per_consumer_year_reused=t_reused,
           ratio_reused=t_lp / t_reused, grid_kwh_lp=grid_lp,
           grid_kwh_rule=float(one["grid"].sum()),
           note="rule-based simulation vs optimisation: different questions")
