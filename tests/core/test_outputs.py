"""``match(outputs=...)``: annual totals from the kernel, and the choice of
(R, T) outputs, give the same values as the full hourly path."""

import numpy as np
import pytest
from hypothesis import given, settings
from test_kernel import systems

from sim import InputError, match
from sim.core import kernel
from sim.core.dispatch import ANNUAL_TOTALS, FACTORS, HOURLY_OUTPUTS, KERNEL_OUTPUTS

SERIES = tuple(n for n in HOURLY_OUTPUTS if n not in ("offsite", "must_run")) + FACTORS


def _system(n_r=2 * kernel.ROWS_PER_BLOCK + 9, n_t=240, seed=7):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 2, (n_r, n_t))
    onsite = rng.uniform(0, 3, (n_r, n_t)) * (rng.random((n_r, n_t)) < 0.5)
    battery = np.where(rng.random(n_r) < 0.4, rng.uniform(1, 6, n_r), 0.0)
    return dict(demand=demand, onsite=onsite, offsite=rng.uniform(0, 30, n_t),
                battery_kwh=battery, battery_kw=1.5, community_kwh=40.0,
                community_kw=9.0, must_run=rng.uniform(0, 8, n_t), soc_initial=0.2)


def _sums(full, name):
    return full[name].sum(axis=1, dtype=np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_annual_totals_equal_the_sums_of_the_hourly_outputs(dtype):
    full = match(**_system(), dtype=dtype)
    for name in ANNUAL_TOTALS:
        np.testing.assert_allclose(full["annual"][name], _sums(full, name), rtol=1e-12,
                                   atol=0, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("outputs", ["annual", ["grid"], ["community", "soc"],
                                     ["direct", "charge"], ["export", "pooled"]])
def test_fewer_outputs_give_the_same_bits(dtype, outputs):
    kw = _system()
    full = match(**kw, dtype=dtype)
    part = match(**kw, dtype=dtype, outputs=outputs)
    kept = [] if outputs == "annual" else outputs
    assert set(KERNEL_OUTPUTS) & set(part) == set(kept)
    for name in kept:
        np.testing.assert_array_equal(part[name], full[name], err_msg=name)
    for name in SERIES:
        np.testing.assert_array_equal(part[name], full[name], err_msg=name)
    np.testing.assert_array_equal(part["annual"], full["annual"])


def test_annual_only_allocates_no_consumer_hour_output():
    kw = _system()
    got = match(**kw, outputs="annual")
    n_r, n_t = kw["demand"].shape
    big = [k for k, v in got.items() if k not in ("demand", "onsite")
           and getattr(v, "shape", ()) == (n_r, n_t)]
    assert big == []


def test_pooled_community_grid_follow_from_residual_and_factors():
    kw = _system()
    full = match(**kw)
    residual = full["demand"] - full["direct"] - full["discharge"]
    np.testing.assert_allclose(full["pooled"], residual * full["pool_factor"], rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(full["community"], residual * full["community_factor"],
                               rtol=1e-12, atol=1e-12)


def test_unknown_output_name_and_unkept_buffer_are_one_line_errors():
    kw = _system()
    with pytest.raises(InputError, match="'gird'") as info:
        match(**kw, outputs=["gird"])
    assert info.value.field == "outputs"
    with pytest.raises(InputError, match="outputs") as info:
        match(**kw, outputs="everything")
    with pytest.raises(InputError, match="does not keep"):
        match(**kw, outputs=["grid"], out={"pooled": np.empty_like(kw["demand"])})


def test_bad_value_is_found_in_annual_mode_too():
    kw = _system()
    kw["demand"] = kw["demand"].copy()
    kw["demand"][3, 7] = np.nan
    with pytest.raises(InputError, match=r"at index \(3, 7\)"):
        match(**kw, outputs="annual")


@settings(max_examples=150, deadline=None)
@given(systems())
def test_annual_mode_equals_hourly_mode(system):
    demand, onsite, offsite, kwargs = system
    full = match(demand, onsite, offsite, **kwargs)
    part = match(demand, onsite, offsite, **kwargs, outputs="annual")
    np.testing.assert_array_equal(part["annual"], full["annual"])
    for name in ANNUAL_TOTALS:
        np.testing.assert_allclose(part["annual"][name], _sums(full, name), rtol=1e-12,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_without_annual_totals_the_hourly_outputs_are_the_same_bits(dtype):
    kw = _system()
    full = match(**kw, dtype=dtype)
    n_r, n_t = kw["demand"].shape
    buffers = {name: np.full((n_r, n_t), np.nan, dtype=dtype) for name in KERNEL_OUTPUTS}
    bare = match(**kw, dtype=dtype, out=buffers, annual=False)
    assert "annual" not in bare
    for name in KERNEL_OUTPUTS + SERIES:
        np.testing.assert_array_equal(bare[name], full[name], err_msg=name)
    part = match(**kw, dtype=dtype, outputs=["grid"], annual=False)
    np.testing.assert_array_equal(part["grid"], full["grid"])


def test_no_annual_totals_and_no_hourly_output_is_refused():
    with pytest.raises(InputError, match="annual=True"):
        match(**_system(), outputs="annual", annual=False)
