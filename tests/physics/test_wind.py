"""Tests for sim.physics.wind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from windpowerlib import WindTurbine

from sim.errors import InputError
from sim.physics.wind import (hub_wind_speed, turbine_power_curve,
                                 turbine_types, wind_kwh_per_kw)
from sim.inputs.weather import load_weather, year_index

LAT, LON, ALT = 27.37, 128.57, 20.0  # golden island (demo scenario)


@pytest.fixture(scope="module")
def island():
    return load_weather(latitude=LAT, longitude=LON, altitude=ALT, year=2030)


def const_weather(speeds, *, height=10.0, temp=15.0, pressure=101325.0):
    """Weather with given wind speeds (one hour each)."""
    speeds = np.asarray(speeds, dtype=float)
    idx = year_index(2030)[: len(speeds)]
    w = pd.DataFrame({"ghi": 0.0, "dni": 0.0, "dhi": 0.0, "temp_air": temp,
                      "wind_speed": speeds, "pressure": pressure}, index=idx)
    w.attrs = {"source": "test", "synthetic": True, "wind_height": height,
               "repairs": []}
    return w


def test_turbine_types_offline_library():
    t = turbine_types()
    assert len(t) >= 60
    assert {"turbine_type", "manufacturer", "nominal_power_kw",
            "cut_in_m_s", "cut_out_m_s", "curve_max_kw"} <= set(t.columns)
    row = t.set_index("turbine_type").loc["E-53/800"]
    assert row["nominal_power_kw"] == 800.0 and row["curve_max_kw"] == 810.0
    assert row["cut_out_m_s"] == 25.0 and row["cut_in_m_s"] == 1.0


# windpowerlib's own use of DataFrame.dropna(inplace=True) under pandas 3
@pytest.mark.filterwarnings("ignore:The inplace keyword")
def test_curve_matches_windpowerlib_turbine():
    """The shipped oedb library works offline through WindTurbine too."""
    wt = WindTurbine(hub_height=60, turbine_type="E-53/800")
    ws, p, nominal = turbine_power_curve("E-53/800")
    np.testing.assert_allclose(ws, wt.power_curve["wind_speed"])
    np.testing.assert_allclose(p * 1000, wt.power_curve["value"])
    assert nominal * 1000 == wt.nominal_power


def test_rated_output_is_one_kw_per_kw():
    # no extrapolation when measured at hub height
    ws, p, nominal = turbine_power_curve("V126/3300")
    rated = ws[np.argmax(p)]
    w = const_weather([rated, rated + 3], height=117)
    out = wind_kwh_per_kw(w, hub_height=117, turbine_type="V126/3300",
                          density_correction=False)
    np.testing.assert_allclose(out, [1.0, 1.0])


def test_curve_above_nameplate_and_peak_normalisation():
    w = const_weather([14.0], height=60)
    nominal = wind_kwh_per_kw(w, hub_height=60, turbine_type="E-53/800")
    peak = wind_kwh_per_kw(w, hub_height=60, turbine_type="E-53/800",
                           normalize="peak")
    assert nominal[0] == pytest.approx(810 / 800)
    assert peak[0] == 1.0


def test_cut_in_and_cut_out():
    w = const_weather([0.0, 0.5, 1.0, 1.5, 25.0, 25.01, 30.0], height=60)
    out = wind_kwh_per_kw(w, hub_height=60, turbine_type="E-53/800",
                          density_correction=False)
    assert out[0] == out[1] == out[2] == 0.0       # at/below cut-in
    assert out[3] == pytest.approx(1.0 / 800)       # interpolated 1 -> 2 m/s
    assert out[4] == pytest.approx(810 / 800)       # last tabulated speed
    assert out[5] == out[6] == 0.0                  # above cut-out


def test_linear_interpolation_between_nodes():
    w = const_weather([7.5], height=60)
    out = wind_kwh_per_kw(w, hub_height=60, turbine_type="E-53/800",
                          density_correction=False)
    assert out[0] == pytest.approx((228 + 336) / 2 / 800)


@pytest.mark.parametrize("h, z0", [(60.0, 0.15), (100.0, 0.03), (30, 0.5)])
def test_log_law_hand_formula(h, z0):
    v = np.array([3.0, 7.0, 12.0])
    got = hub_wind_speed(v, measurement_height=10.0, hub_height=h,
                         roughness_length=z0)
    np.testing.assert_allclose(got, v * np.log(h / z0) / np.log(10.0 / z0))


def test_hellman_hand_formula():
    v = np.array([4.0, 8.0])
    got = hub_wind_speed(v, measurement_height=10, hub_height=80,
                         method="hellman", hellman_exponent=1 / 7)
    np.testing.assert_allclose(got, v * 8 ** (1 / 7))
    got = hub_wind_speed(v, measurement_height=10, hub_height=80,
                         roughness_length=0.1, method="hellman")
    np.testing.assert_allclose(got, v * 8 ** (1 / np.log(80 / 0.1)))


def test_extrapolation_used_in_output():
    z0, h = 0.15, 60.0
    v10 = 8.0 * np.log(10 / z0) / np.log(h / z0)  # gives 8 m/s at the hub
    w = const_weather([v10], height=10)
    out = wind_kwh_per_kw(w, hub_height=h, turbine_type="E-53/800",
                          roughness_length=z0, density_correction=False)
    assert out[0] == pytest.approx(336 / 800)
    # measurement height taken from attrs unless given
    w.attrs["wind_height"] = 60.0
    same = wind_kwh_per_kw(w, hub_height=h, turbine_type="E-53/800",
                           measurement_height=10.0, roughness_length=z0,
                           density_correction=False)
    assert same[0] == pytest.approx(out[0])


def test_density_correction_direction():
    hot_thin = const_weather([7.0, 9.0], height=60, temp=35.0,
                             pressure=95000.0)
    plain = wind_kwh_per_kw(hot_thin, hub_height=60, density_correction=False)
    corr = wind_kwh_per_kw(hot_thin, hub_height=60)  # on by default (issue 11)
    assert (corr < plain).all() and (corr > 0.8 * plain).all()


def test_capacity_factor_synthetic_year(island):
    out = wind_kwh_per_kw(island, hub_height=60, turbine_type="E-53/800")
    assert out.shape == (8760,) and out.dtype == np.float64
    assert np.isfinite(out).all() and (out >= 0).all()
    cf = out.mean()
    assert 0.15 < cf < 0.40
    # typhoons push some hours past cut-out
    assert (out == 0).sum() > 0


def test_unknown_turbine_lists_valid_ones(island):
    with pytest.raises(InputError) as e:
        wind_kwh_per_kw(island, hub_height=60, turbine_type="E-44/900")
    assert e.value.field == "turbine_type"
    assert "E-53/800" in str(e.value) and "turbine_types()" in str(e.value)


@pytest.mark.parametrize("kwargs, field", [
    ({"hub_height": 0}, "hub_height"),
    ({"hub_height": 60, "roughness_length": -1}, "roughness_length"),
    ({"hub_height": 60, "measurement_height": "ten"}, "measurement_height"),
    ({"hub_height": 60, "method": "power"}, "method"),
    ({"hub_height": 60, "normalize": "max"}, "normalize"),
])
def test_bad_parameters(island, kwargs, field):
    with pytest.raises(InputError) as e:
        wind_kwh_per_kw(island, **kwargs)
    assert e.value.field == field


def test_bad_weather(island):
    with pytest.raises(InputError) as e:
        wind_kwh_per_kw(island.drop(columns="wind_speed"), hub_height=60)
    assert e.value.field == "wind_speed"
    neg = const_weather([3.0, -1.0])
    with pytest.raises(InputError, match="negative"):
        wind_kwh_per_kw(neg, hub_height=60)


def test_losses_derate_uniformly():
    """losses_percent scales every hour by (1 - losses / 100)."""
    import numpy as np

    from sim.physics.wind import wind_kwh_per_kw
    from sim.inputs.weather import load_weather

    w = load_weather(latitude=27.4, longitude=128.6, year=2023)
    gross = wind_kwh_per_kw(w, hub_height=60)
    net = wind_kwh_per_kw(w, hub_height=60, losses_percent=12.0)
    np.testing.assert_allclose(net, 0.88 * gross)


def test_density_correction_matches_windpowerlib_modelchain(island):
    """On by default: hub-height density from temperature and pressure, as a
    windpowerlib ModelChain with density_correction=True computes it."""
    from windpowerlib import ModelChain, WindTurbine

    notes = []
    ours = wind_kwh_per_kw(island, hub_height=60, turbine_type="E-53/800",
                           roughness_length=0.1, notes=notes)
    plain = wind_kwh_per_kw(island, hub_height=60, turbine_type="E-53/800",
                            roughness_length=0.1, density_correction=False)
    wt = WindTurbine(hub_height=60, turbine_type="E-53/800")
    cols = pd.MultiIndex.from_tuples([("wind_speed", 10), ("temperature", 2),
                                      ("pressure", 0), ("roughness_length", 0)])
    wdf = pd.DataFrame(np.column_stack([island["wind_speed"], island["temp_air"] + 273.15,
                                        island["pressure"], np.full(len(island), 0.1)]),
                       index=island.index, columns=cols)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc = ModelChain(wt, density_model="barometric", temperature_model="linear_gradient",
                        density_correction=True).run_model(wdf)
    ref = mc.power_output.to_numpy() / 1000 / 800
    ratio = ours.sum() / ref.sum()
    print(f"energy vs windpowerlib ModelChain (density corrected): {ratio:.5f}; "
          f"correction {ours.sum() / plain.sum() - 1:+.2%}")
    assert ratio == pytest.approx(1.0, abs=0.005)
    assert any("kg/m3" in n for n in notes)


@pytest.mark.parametrize("cap, n, ok", [(2400, None, 3), (2000, None, None),
                                        (2000, 3, 3), (2000, 2, None)])
def test_turbine_count(cap, n, ok):
    from sim.physics.wind import turbine_count

    if ok is None:
        with pytest.raises(InputError, match="turbines"):
            turbine_count(cap, "E-53/800", n)
    else:
        assert turbine_count(cap, "E-53/800", n) == ok


def test_scaled_turbines():
    from sim.physics.wind import scaled_turbines

    # 2,400 kW of 800 kW turbines (3) scaled by 0, 1, 1.5, 2: 0, 3, 4.5, 6 turbines
    n, bad, kw = scaled_turbines([0, 1, 1.5, 2], capacity_kw=2400,
                                 turbine_type="E-53/800")
    assert kw == 800 and list(n) == [0, 3, 4.5, 6] and list(bad) == [2]
    # a row stating its turbines (capacity a grid limit) scales them
    n, bad, _ = scaled_turbines([0.5, 1 / 3], capacity_kw=2000,
                                turbine_type="E-53/800", turbines=3)
    assert list(bad) == [0] and n[1] == pytest.approx(1)
