"""Fidelity, not speed: gxsim's physics against independent models (issue 11).

On pvlib's shipped TMY3 (Greensboro NC, 723170TYA.CSV) at its own site:

* yearly PV yield of gxsim (``sim.physics.solar``, 20° south, 14 % losses,
  DC/AC 1.15) against NREL PySAM ``Pvwattsv8`` with the same inputs and
  against an independently set-up pvlib ``ModelChain`` (PVWatts DC and
  inverter, Perez, physical IAM, SAPM cell temperature, PVWatts losses);
  target within +-3 %;
* yearly wind energy of gxsim (``sim.physics.wind``, E-53/800 at 60 m,
  z0 = 0.1 m, density correction on) against a windpowerlib ``ModelChain``
  with density correction; target within +-2 %.

Run: ``python -m pytest benchmarks/bench_fidelity.py -s`` (PySAM from the
``peers`` extra; skipped with a reason without it).  Figures go to the run's
summary (``record``); the table is in benchmarks/README.md.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from conftest import record

from sim.inputs.weather import load_weather
from sim.physics.solar import pv_kwh_per_kwp
from sim.physics.wind import wind_kwh_per_kw

TMY3 = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
SITE = dict(latitude=36.1, longitude=-79.95, altitude=273.0)
PV = dict(tilt=20.0, azimuth=180.0, losses_percent=14.0, dc_ac_ratio=1.15)


@pytest.fixture(scope="module")
def tmy():
    data, meta = pvlib.iotools.read_tmy3(str(TMY3), map_variables=True)
    return data, meta


@pytest.fixture(scope="module")
def weather():
    return load_weather(TMY3, **SITE, year=2023, timezone="Etc/GMT+5")


def _gxsim_pv(weather):
    notes = []
    kwh = pv_kwh_per_kwp(weather, **SITE, **PV, notes=notes)
    return float(kwh.sum()), notes


def _pysam(data, meta):
    pv8 = pytest.importorskip("PySAM.Pvwattsv8",
                              reason="optional peer: pip install nrel-pysam (peers extra)")
    hh = data["Time (HH:MM)"].str.split(":").str[0].astype(int).to_numpy()
    date = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
    m = pv8.default("PVWattsNone")
    m.SolarResource.solar_resource_data = {
        "lat": meta["latitude"], "lon": meta["longitude"], "tz": meta["TZ"],
        "elev": meta["altitude"],
        "year": [2023] * len(data), "month": date.dt.month.tolist(),
        "day": date.dt.day.tolist(), "hour": (hh - 1).tolist(),  # SAM: hour 0-23
        "minute": [30] * len(data),  # hour-ending TMY: the sun at mid-hour
        "dn": data["dni"].tolist(), "df": data["dhi"].tolist(),
        "gh": data["ghi"].tolist(), "tdry": data["temp_air"].tolist(),
        "wspd": data["wind_speed"].tolist(), "pres": data["pressure"].tolist(),
        "albedo": [0.2] * len(data),
    }
    sd = m.SystemDesign
    sd.system_capacity = 1.0
    sd.dc_ac_ratio = PV["dc_ac_ratio"]
    sd.tilt, sd.azimuth = PV["tilt"], PV["azimuth"]
    sd.array_type = 0          # fixed, open rack
    sd.module_type = 0         # standard
    sd.losses = PV["losses_percent"]
    sd.inv_eff = 96.0
    sd.gcr = 0.3
    m.execute()
    return float(m.Outputs.ac_annual)


def _pvlib_modelchain(data, meta):
    loc = pvlib.location.Location(meta["latitude"], meta["longitude"],
                                  tz=f"Etc/GMT+{int(-meta['TZ'])}",
                                  altitude=meta["altitude"])
    # hour-ending labels -> the middle of each hour for the sun position
    times = pd.DatetimeIndex(data.index).tz_convert(loc.tz) - pd.Timedelta(minutes=30)
    wx = data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].set_axis(times)
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=PV["tilt"], surface_azimuth=PV["azimuth"], albedo=0.2,
        module_parameters={"pdc0": 1.0, "gamma_pdc": -0.004},
        inverter_parameters={"pdc0": 1.0 / PV["dc_ac_ratio"] / 0.96,
                             "eta_inv_nom": 0.96},
        temperature_model_parameters=pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS[
            "sapm"]["open_rack_glass_polymer"],
        losses_parameters={"soiling": PV["losses_percent"], "shading": 0, "snow": 0,
                           "mismatch": 0, "wiring": 0, "connections": 0, "lid": 0,
                           "nameplate_rating": 0, "age": 0, "availability": 0})
    mc = pvlib.modelchain.ModelChain(system, loc, aoi_model="physical",
                                     spectral_model="no_loss",
                                     transposition_model="perez",
                                     losses_model="pvwatts")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc.run_model(wx)
    ac = mc.results.ac
    nan = int(ac.isna().sum())
    return float(ac.fillna(0).clip(lower=0).sum()), nan


def test_pv_yield_against_pysam_and_pvlib(tmy, weather):
    data, meta = tmy
    ours, notes = _gxsim_pv(weather)
    sam = _pysam(data, meta)
    mc, nan = _pvlib_modelchain(data, meta)
    fig = record(None, "fidelity PV (TMY3 Greensboro, kWh/kWp/yr)",
                 gxsim=round(ours, 1), pysam_pvwattsv8=round(sam, 1),
                 pvlib_modelchain=round(mc, 1),
                 gxsim_vs_pysam=round(ours / sam - 1, 4),
                 gxsim_vs_modelchain=round(ours / mc - 1, 4),
                 modelchain_nan_hours_set_to_0=nan)
    print(f"\nPV kWh/kWp/yr: gxsim {ours:.1f}, PySAM Pvwattsv8 {sam:.1f} "
          f"({ours / sam - 1:+.2%}), pvlib ModelChain {mc:.1f} ({ours / mc - 1:+.2%}); "
          f"ModelChain NaN hours filled with 0: {nan}; gxsim notes: {notes}")
    assert abs(fig["gxsim_vs_pysam"]) <= 0.03
    assert abs(fig["gxsim_vs_modelchain"]) <= 0.03


def test_wind_energy_against_windpowerlib(weather):
    from windpowerlib import ModelChain, WindTurbine

    ours = wind_kwh_per_kw(weather, hub_height=60, turbine_type="E-53/800",
                           roughness_length=0.1)
    plain = wind_kwh_per_kw(weather, hub_height=60, turbine_type="E-53/800",
                            roughness_length=0.1, density_correction=False)
    cols = pd.MultiIndex.from_tuples([("wind_speed", 10), ("temperature", 2),
                                      ("pressure", 0), ("roughness_length", 0)])
    wdf = pd.DataFrame(np.column_stack([weather["wind_speed"], weather["temp_air"] + 273.15,
                                        weather["pressure"], np.full(len(weather), 0.1)]),
                       index=weather.index, columns=cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc = ModelChain(WindTurbine(hub_height=60, turbine_type="E-53/800"),
                        density_model="barometric", temperature_model="linear_gradient",
                        density_correction=True).run_model(wdf)
    ref = float(mc.power_output.sum()) / 1000 / 800
    fig = record(None, "fidelity wind (TMY3 Greensboro, E-53/800 60 m, kWh/kW/yr)",
                 gxsim=round(float(ours.sum()), 2),
                 windpowerlib_modelchain=round(ref, 2),
                 gxsim_vs_windpowerlib=round(float(ours.sum()) / ref - 1, 5),
                 without_density_correction=round(float(plain.sum()) / ref - 1, 4))
    print(f"\nwind kWh/kW/yr: gxsim {ours.sum():.1f}, windpowerlib ModelChain {ref:.1f} "
          f"({ours.sum() / ref - 1:+.3%}); without density correction "
          f"{plain.sum() / ref - 1:+.2%}")
    assert abs(fig["gxsim_vs_windpowerlib"]) <= 0.02
