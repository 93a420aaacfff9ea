"""Hourly flows rebuilt on access (sim.core.flows) are the same bits as the
flows the kernel stores with ``match(outputs="hourly")``."""

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kernel import systems
from test_outputs import _system

from sim import match
from sim.core import kernel
from sim.core.dispatch import KERNEL_OUTPUTS
from sim.core.engine import build_inputs, run_inputs
from sim.core.flows import lazy_flows


def _derived(demand, onsite, offsite, dtype, **kw):
    """``match(outputs="compact")`` and the flows rebuilt from it, as numpy."""
    out = match(demand, onsite, offsite, dtype=dtype, outputs="compact", **kw)
    lazy = lazy_flows(out["demand"], out["onsite"], out["battery"], out["pool_factor"],
                      out["community_factor"])
    return out, {n: np.asarray(v) for n, v in lazy.items()}


def _assert_same_bits(got, want, name):
    assert got.dtype == want.dtype and got.shape == want.shape, name
    bits = np.dtype(f"u{want.dtype.itemsize}")
    mismatch = np.flatnonzero(got.view(bits) != want.view(bits))
    assert mismatch.size == 0, (f"{name}: {mismatch.size} values differ, first at "
                                f"{np.unravel_index(mismatch[0], want.shape)}")


@settings(max_examples=150, deadline=None)
@given(systems(), st.sampled_from([np.float64, np.float32]))
def test_rebuilt_flows_are_the_kernels_bits(system, dtype):
    demand, onsite, offsite, kwargs = system
    full = match(demand, onsite, offsite, dtype=dtype, **kwargs)
    out, got = _derived(demand, onsite, offsite, dtype, **kwargs)
    assert set(got) == set(KERNEL_OUTPUTS)
    for name in KERNEL_OUTPUTS:
        _assert_same_bits(got[name], full[name], name)
    np.testing.assert_array_equal(out["annual"], full["annual"])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rebuilt_flows_across_blocks_and_battery_pairs(dtype):
    # 73 rows, 40 % with batteries: rows paired in phase 1, several blocks
    kw = _system()
    full = match(**kw, dtype=dtype)
    demand, onsite, offsite = kw.pop("demand"), kw.pop("onsite"), kw.pop("offsite")
    out, got = _derived(demand, onsite, offsite, dtype, **kw)
    rows = out["battery"]["rows"]
    assert 0 < len(rows) < demand.shape[0]
    assert out["battery"]["charge"].shape == (len(rows), demand.shape[1])
    for name in KERNEL_OUTPUTS:
        _assert_same_bits(got[name], full[name], name)


def test_compact_keeps_no_consumer_hour_array_for_rows_without_battery():
    kw = _system()
    got = match(**kw, outputs="compact")
    n_r, n_t = kw["demand"].shape
    assert [k for k in KERNEL_OUTPUTS if k in got] == []
    rows = got["battery"]["rows"]
    np.testing.assert_array_equal(rows, np.flatnonzero(kw["battery_kwh"] > 0))
    for name in ("charge", "discharge", "soc"):
        assert got["battery"][name].shape == (len(rows), n_t)
    # float64: export and residual of battery rows follow from charge/discharge
    for name in ("export", "residual"):
        assert got["battery"][name].shape == (0, n_t)
    f32 = match(**kw, outputs="compact", dtype=np.float32)
    for name in ("charge", "discharge", "export", "residual", "soc"):
        assert f32["battery"][name].shape == (len(rows), n_t)


def _stored_and_rebuilt():
    """The 73-row system's flows as ``match`` stores them, the same flows
    rebuilt on access (``lazy_flows``), and its number of consumers."""
    kw = _system()
    full = match(**kw)
    demand, onsite, offsite = kw.pop("demand"), kw.pop("onsite"), kw.pop("offsite")
    out = match(demand, onsite, offsite, outputs="compact", **kw)
    lazy = lazy_flows(out["demand"], out["onsite"], out["battery"], out["pool_factor"],
                      out["community_factor"])
    return full, lazy, demand.shape[0]


@pytest.mark.parametrize("key", [
    dict(consumer=slice(None)), dict(consumer=5), dict(consumer=slice(3, 40, 7)),
    dict(consumer=slice(None, None, -3)), dict(consumer=[9, 2, 70], time=[5, 1]),
    dict(consumer=slice(10, 10)), dict(time=slice(20, 30)), dict(consumer=-1, time=7)])
def test_selections_of_a_rebuilt_flow_equal_the_stored_array(key):
    full, lazy, _ = _stored_and_rebuilt()
    for name in ("grid", "charge", "export"):
        got = xr.Variable(("consumer", "time"), lazy[name])[key]
        want = xr.Variable(("consumer", "time"), full[name])[key]
        np.testing.assert_array_equal(got.values, want.values, err_msg=name)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_simulate_hourly_flows_equal_the_stored_path(demo_scenario, dtype):
    sc = demo_scenario.model_copy(deep=True)
    sc.options.dtype = dtype
    inputs = build_inputs(sc)
    lazy = run_inputs(sc, inputs)
    stored = run_inputs(sc, inputs, outputs=list(KERNEL_OUTPUTS))
    assert lazy.hourly["grid"].dtype == np.dtype(dtype)
    for name in KERNEL_OUTPUTS:
        # the result does not hold these flows: they are computed when read
        assert not isinstance(lazy.hourly[name].variable._data, np.ndarray), name
        _assert_same_bits(lazy.hourly[name].values, stored.hourly[name].values, name)
    assert lazy.annual.equals(stored.annual)
    assert lazy.kpis == stored.kpis
    xr.testing.assert_identical(lazy.hourly.load(), stored.hourly)


def test_derive_rows_codes_follow_the_names():
    assert kernel.DERIVED == tuple(KERNEL_OUTPUTS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_serial_and_parallel_derivation_give_the_same_bits(dtype):
    # the serial variant serves reads of a few rows (sim.core.flows.SERIAL_ROWS)
    kw = _system()
    demand, onsite, offsite = kw.pop("demand"), kw.pop("onsite"), kw.pop("offsite")
    out = match(demand, onsite, offsite, outputs="compact", dtype=dtype, **kw)
    b = out["battery"]
    slot = np.full(demand.shape[0], -1, np.int64)
    slot[b["rows"]] = np.arange(len(b["rows"]))
    args = (out["demand"], out["onsite"], slot, b["charge"], b["discharge"], b["export"],
            b["residual"], b["soc"], out["pool_factor"], out["community_factor"])
    for code, name in enumerate(kernel.DERIVED):
        par = np.empty(out["demand"].shape, out["demand"].dtype)
        ser = np.full_like(par, np.nan)
        kernel.derive_rows(code, *args, par)
        kernel.derive_rows_serial(code, *args, ser)
        _assert_same_bits(ser, par, name)


def test_consumer_rows_read_by_blocks_equal_the_whole_array():
    from sim.core.accounting import ConsumerRows

    full, lazy, n_r = _stored_and_rebuilt()
    for name in ("pooled", "charge"):
        want = full[name]
        for backing in (want, lazy[name]):
            rows = ConsumerRows(xr.Variable(("consumer", "time"), backing), block=10)
            assert rows.shape == want.shape and rows.dtype == want.dtype
            np.testing.assert_array_equal(rows[3], want[3])
            np.testing.assert_array_equal(rows[5:27], want[5:27])
            assert rows[4, 7] == want[4, 7]
            np.testing.assert_allclose(rows.sum(axis=0), want.sum(axis=0), rtol=1e-12)
            np.testing.assert_allclose(rows.sum(axis=1), want.sum(axis=1), rtol=1e-12)
            with pytest.raises(ValueError, match="axis"):
                rows.sum(axis=2)
    # known row totals are returned without reading the rows
    totals = np.arange(n_r, dtype=float)
    rows = ConsumerRows(xr.Variable(("consumer", "time"), lazy["grid"]), row_totals=totals)
    np.testing.assert_array_equal(rows.sum(axis=1), totals)


def test_rows_into_computes_a_derived_flow_into_the_given_buffer():
    from sim.core.flows import rows_into

    full, lazy, n_r = _stored_and_rebuilt()
    out = np.full((12, full["grid"].shape[1]), np.nan, full["grid"].dtype)
    var = xr.Variable(("consumer", "time"), lazy["grid"])
    got = rows_into(var, 30, 42, out)
    assert got is out
    np.testing.assert_array_equal(out, full["grid"][30:42])
    # the last, shorter block
    got = rows_into(var, n_r - 5, n_r, out[:5])
    np.testing.assert_array_equal(got, full["grid"][n_r - 5:])
    # a stored flow: its own rows (a view), the buffer left alone
    stored = xr.Variable(("consumer", "time"), full["grid"])
    out[:] = np.nan
    got = rows_into(stored, 30, 42, out)
    assert np.shares_memory(got, full["grid"]) and np.isnan(out).all()
    # a derived flow already indexed (rows 3, 5, 7, ...): read through xarray
    sub = var[3::2]
    got = rows_into(sub, 2, 6, out[:4])
    np.testing.assert_array_equal(got, full["grid"][3::2][2:6])


def test_rows_into_a_float64_buffer_widens_a_float32_flow_exactly():
    from sim.core.flows import rows_into

    kw = _system()
    demand, onsite, offsite = kw.pop("demand"), kw.pop("onsite"), kw.pop("offsite")
    out = match(demand, onsite, offsite, outputs="compact", dtype=np.float32, **kw)
    full = match(demand, onsite, offsite, dtype=np.float32, **kw)
    lazy = lazy_flows(out["demand"], out["onsite"], out["battery"], out["pool_factor"],
                      out["community_factor"])
    buf = np.full((40, demand.shape[1]), np.nan)
    for name in KERNEL_OUTPUTS:
        var = xr.Variable(("consumer", "time"), lazy[name])
        got = rows_into(var, 20, 60, buf)
        assert got is buf and got.dtype == np.float64
        _assert_same_bits(got, full[name][20:60].astype(np.float64), name)
