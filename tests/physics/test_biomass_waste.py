"""Tests for sim.physics.biomass and sim.physics.waste."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.errors import InputError
from sim.physics.biomass import biomass_kwh, iso_week_mask
from sim.physics.waste import split_waste, waste_kwh
from sim.inputs.weather import year_index

IDX = year_index(2030)  # Tuesday 1 Jan 2030 .. Tuesday 31 Dec 2030


def iso_week(idx):
    return np.asarray(idx.isocalendar().week, dtype=int)


# --- biomass ------------------------------------------------------------------

def test_biomass_running_and_outage_weeks():
    out = biomass_kwh(IDX, capacity_kw=2000, availability=0.9,
                      outage_weeks=[10, 36], load_factor=0.75,
                      forced_outages="derate")
    assert out.shape == (8760,) and out.dtype == np.float64
    wk = iso_week(IDX)
    off = np.isin(wk, [10, 36])
    assert off.sum() == 2 * 7 * 24
    assert (out[off] == 0.0).all()
    assert np.allclose(out[~off], 2000 * 0.75 * 0.9)
    assert out.sum() == pytest.approx(2000 * 0.75 * 0.9 * (8760 - 336))


def test_biomass_outage_week_follows_local_dates():
    # ISO week 10 of 2030: Monday 4 March 00:00 to Sunday 10 March 24:00 JST
    out = pd.Series(biomass_kwh(IDX, capacity_kw=1, outage_weeks=[10],
                                availability=1.0), index=IDX)
    assert out["2030-03-03 23:00+09:00"] > 0
    assert out["2030-03-04 00:00+09:00"] == 0
    assert out["2030-03-10 23:00+09:00"] == 0
    assert out["2030-03-11 00:00+09:00"] > 0


def test_iso_week_one_includes_late_december():
    # 30-31 Dec 2030 (Mon, Tue) are ISO week 1 of 2031: matched by number
    m = pd.Series(iso_week_mask(IDX, [1]), index=IDX)
    assert m["2030-12-30"].all() and m["2030-12-31"].all()
    assert not m["2030-01-07"].any() and m["2030-01-06"].all()


def test_week_absent_from_year_is_an_error():
    with pytest.raises(InputError, match="do not occur") as e:
        biomass_kwh(IDX, capacity_kw=1, outage_weeks=[53])  # 2030: 52 weeks
    assert e.value.field == "outage_weeks"
    idx27 = year_index(2027)  # 1-3 Jan 2027 are ISO week 53 of 2026
    out = biomass_kwh(idx27, capacity_kw=1, outage_weeks=[53], availability=1.0)
    assert (out[:72] == 0).all() and (out[72:] > 0).all()


def test_biomass_accepts_weather_frame():
    w = pd.DataFrame({"ghi": np.zeros(len(IDX))}, index=IDX)
    np.testing.assert_array_equal(biomass_kwh(w, capacity_kw=5),
                                  biomass_kwh(IDX, capacity_kw=5))


@pytest.mark.parametrize("kwargs, field", [
    ({"availability": 0.0}, "availability"),
    ({"availability": 1.01}, "availability"),
    ({"availability": float("nan")}, "availability"),
    ({"load_factor": 0}, "load_factor"),
    ({"capacity_kw": -5}, "capacity_kw"),
    ({"outage_weeks": [0]}, "outage_weeks"),
    ({"outage_weeks": [54]}, "outage_weeks"),
    ({"outage_weeks": [2.5]}, "outage_weeks"),
    ({"outage_weeks": 5}, "outage_weeks"),
])
def test_biomass_validation(kwargs, field):
    args = {"capacity_kw": 100, **kwargs}
    with pytest.raises(InputError) as e:
        biomass_kwh(IDX, **args)
    assert e.value.field == field


def test_naive_index_is_an_error():
    with pytest.raises(InputError, match="tz-aware"):
        biomass_kwh(IDX.tz_localize(None), capacity_kw=1)
    with pytest.raises(InputError, match="tz-aware"):
        waste_kwh(list(range(5)), capacity_kw=1)


# --- waste ----------------------------------------------------------------------

def test_waste_defaults_in_practice_band():
    # issue 11: defaults give 40-60 % (practice), not the former flat 80 %
    out = waste_kwh(IDX, capacity_kw=1500)
    cf = out.mean() / 1500
    print(f"waste default capacity factor: {cf:.3f}")
    assert out.dtype == np.float64 and 0.40 <= cf <= 0.60
    off = np.isin(iso_week(IDX), [22, 23, 42, 43])
    assert (out[off] == 0).all() and np.allclose(out[~off], 1500 * 0.6)
    assert np.allclose(waste_kwh(IDX, capacity_kw=1500, shutdown_weeks=()), 900)


def test_waste_daily_schedule_and_shutdown():
    sched = [1, 1, 1, 1, 1, 0.5, 0]  # Mon..Sun: banked fire on Sunday
    out = pd.Series(waste_kwh(IDX, capacity_kw=1000, weekly_schedule=sched,
                              shutdown_weeks=[30], load_factor=0.9), index=IDX)
    wk = iso_week(IDX)
    dow = IDX.day_of_week
    run = wk != 30
    assert (out[~run] == 0).all() and (~run).sum() == 168
    assert np.allclose(out[run & (dow < 5)], 900)
    assert np.allclose(out[run & (dow == 5)], 450)
    assert (out[run & (dow == 6)] == 0).all()
    # weekdays in local time: Sunday 6 Jan 2030 00:00-23:00 JST
    assert out["2030-01-05 23:00+09:00"] == 450
    assert (out["2030-01-06"] == 0).all()
    assert out["2030-01-07 00:00+09:00"] == 900


def test_waste_hourly_schedule():
    sched = np.ones((7, 24))
    sched[:, 0:6] = 0.6     # lower night throughput every day
    sched[6, :] = 0.0       # no Sunday operation
    out = waste_kwh(IDX, capacity_kw=100, weekly_schedule=sched,
                    load_factor=1.0, shutdown_weeks=())
    h, dow = IDX.hour, IDX.day_of_week
    assert np.allclose(out[(h < 6) & (dow < 6)], 60)
    assert np.allclose(out[(h >= 6) & (dow < 6)], 100)
    assert (out[dow == 6] == 0).all()


@pytest.mark.parametrize("sched", [[1] * 6, np.ones((24, 7)),
                                   [1, 1, 1, 1, 1, 1, 1.2],
                                   [1, 1, 1, 1, 1, 1, -0.1],
                                   [1, 1, 1, 1, 1, 1, np.nan], ["a"] * 7])
def test_waste_bad_schedule(sched):
    with pytest.raises(InputError) as e:
        waste_kwh(IDX, capacity_kw=1, weekly_schedule=sched)
    assert e.value.field == "weekly_schedule"


def test_waste_bad_weeks():
    with pytest.raises(InputError) as e:
        waste_kwh(IDX, capacity_kw=1, shutdown_weeks=[60])
    assert e.value.field == "shutdown_weeks"


def test_split_waste_sums_back():
    kwh = waste_kwh(IDX, capacity_kw=1000, shutdown_weeks=[5])
    bio, plastic = split_waste(kwh, 0.6)
    np.testing.assert_allclose(bio + plastic, kwh)
    np.testing.assert_allclose(bio, kwh * 0.6)
    assert bio.dtype == plastic.dtype == np.float64
    b0, p0 = split_waste(kwh, 0.0)
    assert (b0 == 0).all() and np.array_equal(p0, kwh)
    b1, p1 = split_waste(kwh, 1)
    assert np.array_equal(b1, kwh) and (p1 == 0).all()


@pytest.mark.parametrize("ratio", [-0.01, 1.01, float("nan"), [0.5, 2.0]])
def test_split_waste_bad_ratio(ratio):
    with pytest.raises(InputError) as e:
        split_waste(np.ones(2), ratio)
    assert e.value.field == "biomass_ratio"


@settings(max_examples=60, deadline=None)
@given(kwh=hnp.arrays(np.float64, st.integers(1, 50),
                      elements=st.floats(0, 1e7)),
       ratio=st.floats(0, 1))
def test_split_waste_property(kwh, ratio):
    bio, plastic = split_waste(kwh, ratio)
    np.testing.assert_allclose(bio + plastic, kwh, rtol=1e-12, atol=1e-6)
    assert (bio >= 0).all() and (plastic >= -1e-9).all()


# --- seeded forced outages (issue 11) ------------------------------------------

def test_forced_outages_seeded_events():
    a = biomass_kwh(IDX, capacity_kw=1000, availability=0.85, seed=7)
    b = biomass_kwh(IDX, capacity_kw=1000, availability=0.85, seed=7)
    c = biomass_kwh(IDX, capacity_kw=1000, availability=0.85, seed=8)
    np.testing.assert_array_equal(a, b)          # reproducible
    assert not np.array_equal(a, c)              # the seed matters
    assert set(np.unique(a)) <= {0.0, 1000.0}    # whole plant in or out
    # events last days, not single hours
    down = a == 0
    starts = np.count_nonzero(np.diff(down.astype(int)) == 1) + int(down[0])
    assert down.sum() / max(starts, 1) > 24


def test_forced_outage_share_converges_to_availability():
    from sim.physics.biomass import forced_outage_mask

    share = np.mean([forced_outage_mask(8760, 0.85, seed=s).mean() for s in range(300)])
    print(f"forced-out share over 300 seeds: {share:.4f} (expected 0.15)")
    assert share == pytest.approx(0.15, abs=0.01)
    assert not forced_outage_mask(8760, 1.0, seed=1).any()


def test_forced_outage_note():
    notes = []
    biomass_kwh(IDX, capacity_kw=1, availability=0.85, seed=3, notes=notes)
    assert len(notes) == 1 and "seeded forced outage" in notes[0] and "seed 3" in notes[0]
