"""Photovoltaic generation: pvlib model chain to kWh AC per kWp DC.

The chain, for every hour of a weather year (labels = interval starts):

1. solar position representative of the hour (middle of the hour, or of its
   sunlit part at sunrise/sunset; :func:`sim.inputs.weather.solar_position_hourly`);
2. plane-of-array irradiance by the Perez (default) or Hay-Davies
   transposition (:func:`pvlib.irradiance.get_total_irradiance`), beam
   reduced by the physical incidence-angle modifier
   (:func:`pvlib.iam.physical`);
3. cell temperature by the SAPM model, open-rack glass/polymer
   (:func:`pvlib.temperature.sapm_cell`), or PVsyst;
4. PVWatts DC power (:func:`pvlib.pvsystem.pvwatts_dc`) for 1 kWp, times
   ``1 - losses_percent / 100`` (system losses: soiling, wiring, mismatch,
   availability... as in PVWatts' 14 % default);
5. PVWatts inverter (:func:`pvlib.inverter.pvwatts`) with AC rating
   ``1 / dc_ac_ratio`` kW per kWp, which clips the output there.

Mean power over an hour in kW equals energy in that hour in kWh, so the
result is kWh AC per kWp DC in each hour.  Night hours are exactly 0 by
construction (no irradiance); the result never contains NaN.

Computing once per orientation group: use :func:`pv_profiles`, which computes
the solar position once for a weather year and returns one array per distinct
orientation/system key.  Scale an array by a system's kWp to get its kWh.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pvlib

from sim.errors import InputError
from sim.inputs.weather import solar_position_hourly, validate_weather

__all__ = ["pv_kwh_per_kwp", "pv_profiles", "PV_DEFAULTS"]

#: Default system parameters of :func:`pv_kwh_per_kwp`.
PV_DEFAULTS = {
    "tilt": 20.0,
    "azimuth": 180.0,
    "losses_percent": 14.0,
    "dc_ac_ratio": 1.15,
    "gamma_pdc": -0.004,
    "albedo": 0.2,
    "transposition": "perez",
    "temperature_model": "sapm",
}

_WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
_ETA_INV_NOM = 0.96  # PVWatts nominal inverter efficiency [-]
_SAPM = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"][
    "open_rack_glass_polymer"]
_PVSYST = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["pvsyst"]["freestanding"]


def _num(name, value, lo, hi, *, lo_open=False, hi_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = np.isfinite(v) and (v > lo if lo_open else v >= lo) and \
        (v < hi if hi_open else v <= hi)
    if not ok:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise InputError(f"expected {name} in {lb}{lo:g}, {hi:g}{rb}, got "
                         f"{value!r}", field=name)
    return v


def _check_system(tilt, azimuth, losses_percent, dc_ac_ratio, gamma_pdc,
                  albedo, transposition, temperature_model):
    out = {
        "tilt": _num("tilt", tilt, 0, 90),
        "azimuth": _num("azimuth", azimuth, 0, 360),
        "losses_percent": _num("losses_percent", losses_percent, 0, 100,
                               hi_open=True),
        "dc_ac_ratio": _num("dc_ac_ratio", dc_ac_ratio, 0.5, 3.0),
        "gamma_pdc": _num("gamma_pdc", gamma_pdc, -0.02, 0.0),
        "albedo": _num("albedo", albedo, 0, 1),
    }
    if transposition not in ("perez", "haydavies"):
        raise InputError(f"expected transposition 'perez' or 'haydavies', got "
                         f"{transposition!r}", field="transposition")
    if temperature_model not in ("sapm", "pvsyst"):
        raise InputError(f"expected temperature_model 'sapm' or 'pvsyst', got "
                         f"{temperature_model!r}", field="temperature_model")
    out["transposition"] = transposition
    out["temperature_model"] = temperature_model
    return out


def _wind_at_10m(weather):
    """Wind speed at 10 m for the cell temperature models (1/7 power law)."""
    ws = weather["wind_speed"].to_numpy(dtype=float)
    h = float(weather.attrs.get("wind_height", 10.0))
    if h != 10.0:
        ws = ws * (10.0 / h) ** (1.0 / 7.0)
    return ws


def _validate(weather):
    cols = _WEATHER_COLUMNS + (("pressure",) if isinstance(
        weather, pd.DataFrame) and "pressure" in weather.columns else ())
    validate_weather(weather, columns=cols)


def _geometry(weather, latitude, longitude, altitude):
    """Solar position, extraterrestrial DNI and air mass, once per year."""
    if "pressure" in weather.columns:
        pressure = weather["pressure"].to_numpy(dtype=float)
    else:
        pressure = pvlib.atmosphere.alt2pres(altitude)
    pos = solar_position_hourly(weather.index, latitude, longitude, altitude,
                                pressure=pressure,
                                temperature=weather["temp_air"].to_numpy(
                                    dtype=float))
    eff_times = weather.index + pd.Timedelta(minutes=30)
    dni_extra = np.asarray(pvlib.irradiance.get_extra_radiation(
        np.asarray(eff_times.day_of_year)), dtype=float)
    am = pvlib.atmosphere.get_relative_airmass(
        pos["apparent_zenith"].to_numpy(), model="kastenyoung1989")
    return {
        "apparent_zenith": pos["apparent_zenith"].to_numpy(dtype=float),
        "azimuth": pos["azimuth"].to_numpy(dtype=float),
        "dni_extra": dni_extra,
        "airmass": np.asarray(am, dtype=float),
        "temp_air": weather["temp_air"].to_numpy(dtype=float),
        "wind10": _wind_at_10m(weather),
        "ghi": weather["ghi"].to_numpy(dtype=float),
        "dni": weather["dni"].to_numpy(dtype=float),
        "dhi": weather["dhi"].to_numpy(dtype=float),
        "index": weather.index,
    }


def _poa(g, lit, tilt, azimuth, zen, sazi, dni, ghi, dhi, am, albedo,
         transposition):
    """Beam and diffuse plane-of-array irradiance of the lit hours [W/m2].

    Real records can hold GHI > 0 with DNI = DHI = 0 (sunrise, sunset); the
    Perez and Hay-Davies models divide by DHI there and return NaN.  Those
    hours are recomputed with the isotropic sky (which needs only DHI, GHI
    and the geometry): a physical model for the hour, not a filled zero.
    Returns ``beam, diffuse, fallback`` (bool mask of recomputed hours).
    """
    kw = dict(dni_extra=g["dni_extra"][lit], airmass=am, albedo=albedo)
    with np.errstate(divide="ignore", invalid="ignore"):
        poa = pvlib.irradiance.get_total_irradiance(
            tilt, azimuth, zen, sazi, dni, ghi, dhi, model=transposition, **kw)
    beam = np.asarray(poa["poa_direct"], dtype=float)
    diffuse = np.asarray(poa["poa_diffuse"], dtype=float)
    fallback = ~(np.isfinite(beam) & np.isfinite(diffuse))
    if fallback.any():
        iso = pvlib.irradiance.get_total_irradiance(
            tilt, azimuth, zen[fallback], sazi[fallback], dni[fallback],
            ghi[fallback], dhi[fallback], albedo=albedo, model="isotropic")
        beam[fallback] = np.asarray(iso["poa_direct"], dtype=float)
        diffuse[fallback] = np.asarray(iso["poa_diffuse"], dtype=float)
    if not (np.all(np.isfinite(beam)) and np.all(np.isfinite(diffuse))):
        raise RuntimeError("non-finite plane-of-array irradiance in a lit "
                           "hour")  # pragma: no cover - model guard
    return beam, diffuse, fallback


def _pv_from_geometry(g, *, tilt, azimuth, losses_percent, dc_ac_ratio,
                      gamma_pdc, albedo, transposition, temperature_model,
                      notes=None):
    n = len(g["ghi"])
    out = np.zeros(n)
    zen = g["apparent_zenith"]
    up = zen < 90.0
    dni = np.where(up, g["dni"], 0.0)
    # hours with any light; all others (night) stay exactly 0
    lit = (g["ghi"] > 0.0) | (g["dhi"] > 0.0) | (dni > 0.0)
    if not lit.any():
        return out
    zen, sazi = zen[lit], g["azimuth"][lit]
    ghi, dhi, dni = g["ghi"][lit], g["dhi"][lit], dni[lit]
    up = up[lit]
    # sun below the horizon all hour (twilight diffuse): no beam, and the
    # sky-diffuse geometry is evaluated with the zenith held at 89.9°
    zen = np.where(up, zen, 89.9)
    am = np.where(up, g["airmass"][lit], pvlib.atmosphere.get_relative_airmass(
        89.9, model="kastenyoung1989"))
    beam, diffuse, fallback = _poa(g, lit, tilt, azimuth, zen, sazi, dni, ghi,
                                   dhi, am, albedo, transposition)
    if fallback.any() and notes is not None:
        when = g["index"][lit][fallback]
        shown = ", ".join(t.strftime("%d %b %H:%M") for t in when[:20])
        notes.append(f"pv: {int(fallback.sum())} lit hour(s) where the "
                     f"{transposition} transposition gave no finite result "
                     f"(e.g. GHI > 0 with DNI = DHI = 0) used the isotropic "
                     f"model: {shown}{' ...' if fallback.sum() > 20 else ''}")
    aoi = np.asarray(pvlib.irradiance.aoi(tilt, azimuth, zen, sazi), float)
    iam = np.where(aoi < 90.0, pvlib.iam.physical(np.minimum(aoi, 89.999)),
                   0.0)
    poa_global = np.maximum(beam + diffuse, 0.0)
    effective = np.maximum(beam * iam + diffuse, 0.0)
    temp_air, wind = g["temp_air"][lit], g["wind10"][lit]
    if temperature_model == "sapm":
        t_cell = pvlib.temperature.sapm_cell(poa_global, temp_air, wind,
                                             **_SAPM)
    else:
        t_cell = pvlib.temperature.pvsyst_cell(poa_global, temp_air, wind,
                                               **_PVSYST)
    pdc = pvlib.pvsystem.pvwatts_dc(effective, np.asarray(t_cell, float),
                                    1.0, gamma_pdc)
    pdc = np.maximum(np.asarray(pdc, dtype=float), 0.0)
    pdc = pdc * (1.0 - losses_percent / 100.0)
    pac0 = 1.0 / dc_ac_ratio
    pac = np.asarray(pvlib.inverter.pvwatts(pdc, pac0 / _ETA_INV_NOM,
                                            _ETA_INV_NOM), dtype=float)
    if not np.all(np.isfinite(pac)):  # pragma: no cover - model guard
        raise RuntimeError("non-finite PV output")
    out[lit] = pac
    return out


def pv_kwh_per_kwp(weather, *, latitude, longitude, altitude=0.0, tilt=20.0,
                   azimuth=180.0, losses_percent=14.0, dc_ac_ratio=1.15,
                   gamma_pdc=-0.004, albedo=0.2, transposition="perez",
                   temperature_model="sapm", notes=None, geometry=None):
    """AC energy per kWp DC in each hour of a weather year.

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather year from :func:`sim.inputs.weather.load_weather`: tz-aware hourly
        index of interval starts, columns ``ghi, dni, dhi`` [W/m2],
        ``temp_air`` [°C], ``wind_speed`` [m/s at ``attrs["wind_height"]``,
        default 10 m], optional ``pressure`` [Pa].
    latitude, longitude : float
        Site position, north and east positive. [°]
    altitude : float, default 0
        Site altitude. [m]
    tilt : float, default 20
        Module tilt from horizontal, 0..90. [°]
    azimuth : float, default 180
        Module azimuth clockwise from north (180 = south), 0..360. [°]
    losses_percent : float, default 14
        DC system losses (PVWatts' lumped losses), 0..<100. [%]
    dc_ac_ratio : float, default 1.15
        DC rating / inverter AC rating; AC output clips at
        ``1 / dc_ac_ratio`` kW per kWp. [-]
    gamma_pdc : float, default -0.004
        Temperature coefficient of DC power. [1/°C]
    albedo : float, default 0.2
        Ground reflectance. [-]
    transposition : {"perez", "haydavies"}, default "perez"
        Sky-diffuse transposition model.
    temperature_model : {"sapm", "pvsyst"}, default "sapm"
        Cell temperature model (SAPM open rack glass/polymer, or PVsyst
        freestanding).
    notes : list of str, optional
        If given, a note is appended for every hour that needed a repair
        (the isotropic transposition where ``transposition`` gave no finite
        result).
    geometry : dict, optional
        :func:`site_geometry` of the same weather and site, computed once for
        several orientations (the solar position is most of the time); the
        weather is then taken as already checked.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(len(weather),)``: AC energy in each hour per kWp
        of DC capacity. [kWh/kWp]  Zero at night; never NaN.

    Raises
    ------
    InputError
        If the weather lacks a column or has non-finite values, or a system
        parameter is out of range.

    Notes
    -----
    Wind speed is brought to 10 m (the height the cell temperature models
    expect) with a 1/7 power law when ``attrs["wind_height"]`` is not 10 m.
    Diffuse irradiance is not reduced by an incidence-angle modifier.
    Lit hours where the Perez or Hay-Davies model gives no finite result
    (real records with GHI > 0 but DNI = DHI = 0 at sunrise or sunset) are
    computed with the isotropic sky model and listed in ``notes``.
    """
    site = _check_site_args(latitude, longitude, altitude)
    system = _check_system(tilt, azimuth, losses_percent, dc_ac_ratio,
                           gamma_pdc, albedo, transposition, temperature_model)
    if geometry is None:
        _validate(weather)
        geometry = _geometry(weather, *site)
    return _pv_from_geometry(geometry, **system, notes=notes)


def site_geometry(weather, *, latitude, longitude, altitude=0.0):
    """The orientation-independent part of :func:`pv_kwh_per_kwp`: the weather
    checked, the solar position, extraterrestrial DNI and air mass of every
    hour, for its ``geometry`` argument.

    Parameters
    ----------
    weather : pandas.DataFrame
        As for :func:`pv_kwh_per_kwp`.
    latitude, longitude : float
        Site position, north and east positive. [°]
    altitude : float, default 0
        Site altitude. [m]

    Returns
    -------
    dict
        Hourly arrays (``apparent_zenith``, ``azimuth`` [°], ``dni_extra``
        [W/m2], ``airmass`` [-], the weather's columns) and the ``index``.
    """
    site = _check_site_args(latitude, longitude, altitude)
    _validate(weather)
    return _geometry(weather, *site)


def _check_site_args(latitude, longitude, altitude):
    return (_num("latitude", latitude, -90, 90),
            _num("longitude", longitude, -180, 180),
            _num("altitude", altitude, -500, 9000))


def _orientation_key(params):
    return tuple(sorted(params.items()))


def pv_profiles(weather, site, orientations, *, notes=None):
    """PV profiles for several orientation groups, solar position once.

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather year (see :func:`pv_kwh_per_kwp`).
    site : mapping
        ``{"latitude": ..., "longitude": ..., "altitude": ...}``
        (``altitude`` optional) [°, °, m]; an object with those attributes
        also works.
    orientations : iterable of mapping, or mapping of key to mapping
        Each mapping holds keyword arguments of :func:`pv_kwh_per_kwp`
        (``tilt``, ``azimuth``, ``losses_percent``, ``dc_ac_ratio``,
        ``gamma_pdc``, ``albedo``, ``transposition``,
        ``temperature_model``); missing ones take their defaults.  Given a
        mapping, its keys are used as the result's keys.

    Returns
    -------
    dict
        ``{key: numpy.ndarray (T,)}`` [kWh/kWp].  For a sequence input the
        key is the tuple of sorted ``(name, value)`` pairs of the complete
        parameter set, so identical systems share one entry and are computed
        once.

    Raises
    ------
    InputError
        On an unknown parameter name or a parameter out of range.
    """
    if isinstance(site, Mapping):
        get = site.get
    else:
        def get(name, default=None):
            return getattr(site, name, default)
    if get("latitude") is None or get("longitude") is None:
        raise InputError("expected site with latitude and longitude",
                         field="site")
    lat, lon, alt = _check_site_args(get("latitude"), get("longitude"),
                                     get("altitude", 0.0) or 0.0)
    _validate(weather)
    if isinstance(orientations, Mapping):
        items = list(orientations.items())
        keyed = True
    elif isinstance(orientations, Iterable):
        items = [(None, o) for o in orientations]
        keyed = False
    else:
        raise InputError("expected a list or dict of orientation parameter "
                         "mappings", field="orientations")
    g = None
    cache: dict = {}
    out = {}
    for i, (user_key, params) in enumerate(items):
        if not isinstance(params, Mapping):
            raise InputError(f"expected a mapping of PV parameters, got "
                             f"{type(params).__name__}",
                             field=f"orientations[{i}]")
        unknown = set(params) - set(PV_DEFAULTS)
        if unknown:
            raise InputError(f"unknown PV parameter(s) {sorted(unknown)}; "
                             f"expected some of {sorted(PV_DEFAULTS)}",
                             field=f"orientations[{i}]")
        full = {**PV_DEFAULTS, **params}
        system = _check_system(**full)
        key = _orientation_key(system)
        if key not in cache:
            if g is None:
                g = _geometry(weather, lat, lon, alt)
            cache[key] = _pv_from_geometry(g, **system, notes=notes)
        out[user_key if keyed else key] = cache[key]
    return out
