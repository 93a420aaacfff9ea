"""Tests for sim.physics.solar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest

from sim.errors import InputError
from sim.physics.solar import PV_DEFAULTS, pv_kwh_per_kwp, pv_profiles
from sim.inputs.weather import load_weather, solar_position_hourly

LAT, LON, ALT = 27.37, 128.57, 20.0  # golden island (demo scenario)
SITE = {"latitude": LAT, "longitude": LON, "altitude": ALT}


@pytest.fixture(scope="module")
def island():
    return load_weather(**SITE, year=2030)


def clear_sky_weather(lat, lon, alt, year=2030):
    """Weather with Ineichen clear-sky irradiance at mid-hour, calm, 25 °C."""
    w = load_weather(latitude=lat, longitude=lon, altitude=alt, year=year)
    mid = w.index + pd.Timedelta(minutes=30)
    sp = pvlib.solarposition.get_solarposition(mid, lat, lon, alt)
    am = pvlib.atmosphere.get_absolute_airmass(
        pvlib.atmosphere.get_relative_airmass(sp["apparent_zenith"]),
        pvlib.atmosphere.alt2pres(alt))
    cs = pvlib.clearsky.ineichen(
        sp["apparent_zenith"], am, 3.5, altitude=alt,
        dni_extra=pvlib.irradiance.get_extra_radiation(
            np.asarray(mid.day_of_year)))
    for col in ("ghi", "dni", "dhi"):
        w[col] = np.nan_to_num(cs[col].to_numpy(), nan=0.0)
    return w


@pytest.fixture(scope="module")
def clear():
    return clear_sky_weather(LAT, LON, ALT)


def test_shape_dtype_never_nan(island):
    p = pv_kwh_per_kwp(island, **SITE)
    assert p.shape == (8760,) and p.dtype == np.float64
    assert np.isfinite(p).all() and (p >= 0).all()


@pytest.mark.parametrize("lat, lon", [(27.37, 128.57), (34.2, 129.3)])
def test_annual_yield_plausible(lat, lon):
    w = load_weather(latitude=lat, longitude=lon, year=2030)
    y = pv_kwh_per_kwp(w, latitude=lat, longitude=lon).sum()
    assert 1000 < y < 1500  # kWh/kWp/yr, synthetic island year
    y_clear = pv_kwh_per_kwp(clear_sky_weather(lat, lon, 0.0),
                             latitude=lat, longitude=lon).sum()
    assert y_clear > y + 400


def test_south_beats_north(island):
    south = pv_kwh_per_kwp(island, **SITE, azimuth=180).sum()
    north = pv_kwh_per_kwp(island, **SITE, azimuth=0).sum()
    east = pv_kwh_per_kwp(island, **SITE, azimuth=90).sum()
    west = pv_kwh_per_kwp(island, **SITE, azimuth=270).sum()
    assert south > east > north and south > west > north
    assert east == pytest.approx(west, rel=0.05)


def test_zero_at_night(island):
    p = pv_kwh_per_kwp(island, **SITE)
    pos = solar_position_hourly(island.index, LAT, LON, ALT)
    night = pos["sunlit_fraction"].to_numpy() == 0
    assert night.sum() > 3500
    assert (p[night] == 0.0).all()
    assert (p[~night & (island["ghi"].to_numpy() > 50)] > 0).all()


def test_ac_limit_and_clipping(clear):
    for ratio in (1.15, 1.6):
        p = pv_kwh_per_kwp(clear, **SITE, dc_ac_ratio=ratio, losses_percent=0,
                           tilt=25)
        assert p.max() <= 1.0 / ratio + 1e-12
    # with an undersized inverter, clear noons clip at the AC limit
    assert np.isclose(p, 1.0 / 1.6).sum() > 100


def test_losses_scale_dc(clear):
    base = pv_kwh_per_kwp(clear, **SITE, losses_percent=0, dc_ac_ratio=1.0)
    lossy = pv_kwh_per_kwp(clear, **SITE, losses_percent=20, dc_ac_ratio=1.0)
    assert lossy.sum() == pytest.approx(0.8 * base.sum(), rel=0.02)


def test_hand_computation_one_clear_hour(clear):
    """One clear noon hour against the formulas written out by hand."""
    t = pd.Timestamp("2030-04-15 12:00", tz="Asia/Tokyo")
    i = clear.index.get_loc(t)
    tilt, azim, alb, gamma, loss, ratio = 20.0, 180.0, 0.2, -0.004, 14.0, 1.15
    p = pv_kwh_per_kwp(clear, **SITE, tilt=tilt, azimuth=azim, albedo=alb,
                       gamma_pdc=gamma, losses_percent=loss,
                       dc_ac_ratio=ratio, transposition="haydavies")
    row = clear.iloc[i]
    sp = pvlib.solarposition.get_solarposition(
        pd.DatetimeIndex([t + pd.Timedelta(minutes=30)]), LAT, LON, ALT,
        pressure=row["pressure"], temperature=row["temp_air"]).iloc[0]
    z, az = np.radians(sp["apparent_zenith"]), np.radians(sp["azimuth"])
    b, g = np.radians(tilt), np.radians(azim)
    cos_aoi = np.cos(z) * np.cos(b) + np.sin(z) * np.sin(b) * np.cos(az - g)
    doy = (t + pd.Timedelta(minutes=30)).day_of_year
    bday = 2 * np.pi * (doy - 1) / 365
    e0 = 1366.1 * (1.00011 + 0.034221 * np.cos(bday) + 0.00128 * np.sin(bday)
                   + 0.000719 * np.cos(2 * bday) + 0.000077 * np.sin(2 * bday))
    ai = row["dni"] / e0                      # Hay-Davies anisotropy index
    rb = cos_aoi / np.cos(z)
    sky = row["dhi"] * (ai * rb + (1 - ai) * (1 + np.cos(b)) / 2)
    ground = row["ghi"] * alb * (1 - np.cos(b)) / 2
    beam = row["dni"] * cos_aoi
    # physical IAM (n=1.526, K=4/m, L=2 mm), written out
    th = np.arccos(cos_aoi)
    thr = np.arcsin(np.sin(th) / 1.526)
    tau = lambda a, ar: np.exp(-4 * 0.002 / np.cos(ar)) * (1 - 0.5 * (  # noqa
        (np.sin(ar - a) / np.sin(ar + a)) ** 2
        + (np.tan(ar - a) / np.tan(ar + a)) ** 2))
    iam = tau(th, thr) / (np.exp(-4 * 0.002) * (1 - ((1.526 - 1) / 2.526) ** 2))
    poa = beam + sky + ground
    eff = beam * iam + sky + ground
    # SAPM cell temperature, open rack glass/polymer: a=-3.56 b=-0.075 dT=3
    t_mod = poa * np.exp(-3.56 - 0.075 * row["wind_speed"]) + row["temp_air"]
    t_cell = t_mod + poa / 1000 * 3
    pdc = eff / 1000 * (1 + gamma * (t_cell - 25)) * (1 - loss / 100)
    pac0 = 1 / ratio
    pdc0 = pac0 / 0.96
    zeta = pdc / pdc0
    eta = 0.96 / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)
    pac = min(eta * pdc, pac0)
    assert p[i] == pytest.approx(pac, rel=2e-3)
    assert 0.5 < p[i] < pac0


def test_perez_close_to_haydavies(island):
    a = pv_kwh_per_kwp(island, **SITE, transposition="perez").sum()
    b = pv_kwh_per_kwp(island, **SITE, transposition="haydavies").sum()
    assert a == pytest.approx(b, rel=0.04)


def test_pvsyst_temperature_model(island):
    a = pv_kwh_per_kwp(island, **SITE, temperature_model="pvsyst").sum()
    b = pv_kwh_per_kwp(island, **SITE).sum()
    assert a == pytest.approx(b, rel=0.05)


def test_leap_year_length():
    w = load_weather(**SITE, year=2028)
    assert pv_kwh_per_kwp(w, **SITE).shape == (8784,)


def test_wind_height_adjusted_for_cell_temperature(island):
    w = island.copy()
    w.attrs = dict(island.attrs, wind_height=50.0)
    hot = pv_kwh_per_kwp(w, **SITE).sum()  # same speeds at 50 m = calmer 10 m
    assert hot < pv_kwh_per_kwp(island, **SITE).sum()


def test_pv_profiles_matches_and_shares(island):
    orient = [{"tilt": 10}, {"tilt": 10.0, "azimuth": 180},
              {"azimuth": 90, "losses_percent": 10}]
    out = pv_profiles(island, SITE, orient)
    assert len(out) == 2  # first two are the same system
    for params in orient:
        key = tuple(sorted({**PV_DEFAULTS, **{k: float(v) for k, v in
                                                params.items()}}.items()))
        np.testing.assert_allclose(out[key],
                                   pv_kwh_per_kwp(island, **SITE, **params))
    named = pv_profiles(island, SITE, {"roof": {"tilt": 10},
                                       "wall": {"tilt": 90}})
    assert set(named) == {"roof", "wall"}
    assert named["roof"].sum() > named["wall"].sum()


@pytest.mark.parametrize("kwargs, field", [
    ({"tilt": 95}, "tilt"),
    ({"azimuth": -10}, "azimuth"),
    ({"losses_percent": 100}, "losses_percent"),
    ({"dc_ac_ratio": 0}, "dc_ac_ratio"),
    ({"albedo": 1.5}, "albedo"),
    ({"transposition": "klucher"}, "transposition"),
    ({"latitude": 91}, "latitude"),
])
def test_bad_parameters(island, kwargs, field):
    with pytest.raises(InputError) as e:
        pv_kwh_per_kwp(island, **{**SITE, **kwargs})
    assert e.value.field == field


def test_bad_weather(island):
    with pytest.raises(InputError) as e:
        pv_kwh_per_kwp(island.drop(columns="dni"), **SITE)
    assert e.value.field == "dni"
    bad = island.copy()
    bad.iloc[3, 0] = np.nan
    with pytest.raises(InputError) as e:
        pv_kwh_per_kwp(bad, **SITE)
    assert e.value.field == "ghi"
    with pytest.raises(InputError, match="tz-aware"):
        pv_kwh_per_kwp(island.tz_localize(None), **SITE)
    with pytest.raises(InputError, match="unknown PV parameter"):
        pv_profiles(island, SITE, [{"tilt_deg": 10}])
