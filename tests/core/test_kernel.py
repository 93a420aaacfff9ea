"""The matching kernel against hand-worked cases, the numpy oracle and invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference import reference_match

from sim import InputError, match

FLOWS = ("direct", "discharge", "pooled", "community", "grid")


def check_invariants(out, e=None, e_c=0.0, atol=1e-9):
    """Every balance of docs/design.md section 4, hour by hour."""
    np.testing.assert_allclose(out["demand"], sum(out[k] for k in FLOWS), atol=atol)
    np.testing.assert_allclose(out["onsite"], out["direct"] + out["charge"] + out["export"],
                               atol=atol)
    np.testing.assert_allclose(out["pool"], out["pooled"].sum(0) + out["community_charge"]
                               + out["spill"], atol=atol)
    for name in ("direct", "charge", "discharge", "export", "pooled", "community", "grid",
                 "soc"):
        assert out[name].min() >= -atol, name
    for name in ("pool", "spill", "community_charge", "community_discharge", "community_soc"):
        assert out[name].min() >= -atol, name
    if e is not None:
        assert np.all(out["soc"] <= np.asarray(e, float).reshape(-1, 1) + atol)
    assert np.all(out["community_soc"] <= e_c + atol)


# -- hand-worked cases: 2 consumers, 4 hours --------------------------------

DEMAND = np.array([[2.0, 2.0, 0.0, 1.0], [1.0, 3.0, 2.0, 0.0]])
ONSITE = np.array([[3.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
OFFSITE = np.array([0.0, 1.0, 0.0, 5.0])


def test_surplus_deficit_and_pool_short_and_long():
    """h0: c0's surplus covers c1 exactly; h1: pool short, shared 2:2;
    h2: c0's export goes to c1 only; h3: pool long, 4 kWh spill."""
    out = match(DEMAND, ONSITE, OFFSITE)
    np.testing.assert_allclose(out["direct"], [[2, 0, 0, 0], [0, 1, 0, 0]])
    np.testing.assert_allclose(out["export"], [[1, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(out["pooled"], [[0, 0.5, 0, 1], [1, 0.5, 1, 0]])
    np.testing.assert_allclose(out["grid"], [[0, 1.5, 0, 0], [0, 1.5, 1, 0]])
    np.testing.assert_allclose(out["pool"], [1, 1, 1, 5])
    np.testing.assert_allclose(out["spill"], [0, 0, 0, 4])
    check_invariants(out)


def test_must_run_caps_what_the_grid_takes():
    """h3: residual 1, must-run 3.5 → cap 0: nothing delivered, all 5 spill.
    h1: residual 4, must-run 3.5 → cap 0.5 of a 1 kWh pool."""
    out = match(DEMAND, ONSITE, OFFSITE, must_run=[0.0, 3.5, 0.0, 3.5])
    np.testing.assert_allclose(out["pooled"][:, 3], [0, 0])
    np.testing.assert_allclose(out["spill"][3], 5)
    np.testing.assert_allclose(out["pooled"][:, 1], [0.25, 0.25])
    np.testing.assert_allclose(out["spill"][1], 0.5)
    check_invariants(out)


def test_unshared_surplus_stays_out_of_the_pool():
    out = match(DEMAND, ONSITE, OFFSITE, share_onsite_surplus=False)
    np.testing.assert_allclose(out["pool"], OFFSITE)
    np.testing.assert_allclose(out["pooled"][:, 0], [0, 0])   # c0's export not shared
    np.testing.assert_allclose(out["grid"][:, 0], [0, 1])
    np.testing.assert_allclose(out["export"][0, 0], 1)


def test_battery_charges_then_discharges_with_losses():
    """c0: E 2 kWh, P 1 kW, η 0.81 (0.9 each way). h0: charges 1 kWh → soc 0.9.
    h1: discharges min(2, 1, 0.9·0.9) = 0.81 → soc 0; residual 1.19 and c1's 2
    share the 1 kWh pool pro rata."""
    out = match(DEMAND, ONSITE, OFFSITE, battery_kwh=[2.0, 0.0], battery_kw=[1.0, 0.0],
                efficiency=0.81)
    assert out["charge"][0, 0] == pytest.approx(1.0)
    assert out["soc"][0, 0] == pytest.approx(0.9)
    assert out["discharge"][0, 1] == pytest.approx(0.81)
    assert out["soc"][0, 1] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(out["pooled"][:, 1], [1.19 / 3.19, 2 / 3.19])
    assert out["pooled"][1, 0] == pytest.approx(0.0)           # c0 exported nothing at h0
    check_invariants(out, e=[2.0, 0.0])


def test_battery_full_and_empty():
    """E 1 kWh, P 10 kW, η 1: full after h0 (exports the rest at h1), empty after h2."""
    out = match([[0.0, 0.0, 2.0, 2.0]], [[5.0, 5.0, 0.0, 0.0]], np.zeros(4),
                battery_kwh=1.0, battery_kw=10.0, efficiency=1.0)
    np.testing.assert_allclose(out["charge"], [[1, 0, 0, 0]])
    np.testing.assert_allclose(out["export"], [[4, 5, 0, 0]])
    np.testing.assert_allclose(out["discharge"], [[0, 0, 1, 0]])
    np.testing.assert_allclose(out["grid"], [[0, 0, 1, 2]])
    np.testing.assert_allclose(out["soc"], [[1, 1, 0, 0]])
    np.testing.assert_allclose(out["spill"], [4, 5, 0, 0])


def test_battery_power_limit_and_initial_soc():
    out = match([[3.0]], [[0.0]], [0.0], battery_kwh=10.0, battery_kw=2.0,
                efficiency=1.0, soc_initial=0.5)
    assert out["discharge"][0, 0] == pytest.approx(2.0)
    assert out["soc"][0, 0] == pytest.approx(3.0)


def test_community_battery_charges_from_leftover_and_shares_pro_rata():
    """E_c 2, P_c 1, η 1. h0: 3 kWh leftover, charges 1 (power), 2 spill.
    h1: residuals 1 and 2, pool empty: discharges 1 shared 1:2."""
    demand = np.array([[0.0, 1.0, 1.0, 0.0], [0.0, 2.0, 2.0, 0.0]])
    out = match(demand, np.zeros_like(demand), [3.0, 0.0, 0.0, 0.0],
                community_kwh=2.0, community_kw=1.0, efficiency=1.0)
    np.testing.assert_allclose(out["community_charge"], [1, 0, 0, 0])
    np.testing.assert_allclose(out["spill"], [2, 0, 0, 0])
    np.testing.assert_allclose(out["community"][:, 1], [1 / 3, 2 / 3])
    np.testing.assert_allclose(out["community_soc"], [1, 0, 0, 0])
    np.testing.assert_allclose(out["grid"][:, 2], [1, 2])
    check_invariants(out, e_c=2.0)


def test_community_battery_respects_must_run_cap():
    """Residual 3, must-run 2.5 → the grid takes 0.5 at most from the battery."""
    out = match([[0.0, 3.0]], [[0.0, 0.0]], [5.0, 0.0], community_kwh=4.0,
                community_kw=4.0, efficiency=1.0, must_run=[0.0, 2.5])
    assert out["community"][0, 1] == pytest.approx(0.5)
    assert out["community_soc"][1] == pytest.approx(3.5)


# -- the numpy oracle and invariants on random inputs ------------------------

@st.composite
def systems(draw):
    n_r = draw(st.integers(1, 6))
    n_t = draw(st.integers(1, 48))
    val = st.floats(0, 50, allow_nan=False, allow_subnormal=False)
    demand = draw(arrays(float, (n_r, n_t), elements=val))
    onsite = draw(arrays(float, (n_r, n_t), elements=val))
    offsite = draw(arrays(float, (n_t,), elements=val))
    must_run = draw(arrays(float, (n_t,), elements=st.floats(0, 60, allow_subnormal=False)))
    e = draw(arrays(float, (n_r,), elements=st.floats(0, 100, allow_subnormal=False)))
    p = draw(arrays(float, (n_r,), elements=st.floats(0, 30, allow_subnormal=False)))
    kwargs = dict(
        battery_kwh=e, battery_kw=p, must_run=must_run,
        efficiency=draw(st.floats(0.5, 1.0)),
        soc_initial=draw(st.floats(0.0, 1.0)),
        community_kwh=draw(st.sampled_from([0.0, 10.0, 200.0])),
        community_kw=draw(st.sampled_from([0.0, 5.0, 50.0])),
        share_onsite_surplus=draw(st.booleans()))
    return demand, onsite, offsite, kwargs


@settings(max_examples=300, deadline=None)
@given(systems())
def test_kernel_equals_numpy_reference(system):
    demand, onsite, offsite, kwargs = system
    got = match(demand, onsite, offsite, **kwargs)
    want = reference_match(demand, onsite, offsite, **kwargs)
    for name, value in want.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-9, atol=1e-9, err_msg=name)


@settings(max_examples=300, deadline=None)
@given(systems())
def test_invariants_hold_every_hour(system):
    demand, onsite, offsite, kwargs = system
    out = match(demand, onsite, offsite, **kwargs)
    check_invariants(out, e=kwargs["battery_kwh"], e_c=kwargs["community_kwh"], atol=1e-7)
    renewable = out["direct"] + out["discharge"] + out["pooled"] + out["community"]
    assert np.all(renewable <= out["demand"] + 1e-7)
    # the grid never takes more renewable than demand - must_run allows
    taken = (out["pooled"] + out["community"]).sum(0)
    cap = np.maximum(0, (out["demand"] - out["direct"] - out["discharge"]).sum(0)
                     - kwargs["must_run"])
    assert np.all(taken <= cap + 1e-7)


def test_float32_storage_agrees_with_float64():
    rng = np.random.default_rng(3)
    d, g = rng.gamma(2, 1, (20, 200)), rng.gamma(1, 1, (20, 200))
    a = match(d, g, rng.gamma(2, 5, 200), battery_kwh=5.0, battery_kw=2.0)
    b = match(d, g, rng.gamma(2, 5, 200), battery_kwh=5.0, battery_kw=2.0, dtype="float32")
    assert b["grid"].dtype == np.float32
    np.testing.assert_allclose(b["demand"].sum(), a["demand"].sum(), rtol=1e-6)


@pytest.mark.parametrize("kwargs, field", [
    (dict(demand=-np.ones((1, 2))), "demand"),
    (dict(demand=np.full((1, 2), np.nan)), "demand"),
    (dict(onsite=np.ones((2, 2))), "onsite"),
    (dict(offsite=np.ones(3)), "offsite"),
    (dict(efficiency=1.2), "efficiency"),
    (dict(soc_initial=-0.1), "soc_initial"),
    (dict(battery_kwh=[1.0, 2.0]), "battery_kwh"),
    (dict(must_run=[1.0]), "must_run"),
    (dict(community_kwh=-1.0), "community_kwh"),
])
def test_bad_arrays_give_one_line_errors(kwargs, field):
    args = dict(demand=np.ones((1, 2)), onsite=np.ones((1, 2)), offsite=np.ones(2))
    args.update(kwargs)
    with pytest.raises(InputError) as info:
        match(args.pop("demand"), args.pop("onsite"), args.pop("offsite"), **args)
    assert info.value.field == field
    assert "\n" not in str(info.value)
