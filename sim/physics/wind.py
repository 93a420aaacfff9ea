"""Wind generation: hub-height extrapolation and real power curves.

Wind speed measured at ``measurement_height`` is extrapolated to the hub with
the logarithmic wind profile or the Hellman power law
(:mod:`windpowerlib.wind_speed`), then converted with the turbine's power
curve from windpowerlib's shipped turbine library (the OpenEnergy Database
``oedb`` CSV files, read offline) by linear interpolation
(:func:`windpowerlib.power_output.power_curve`).

The result is normalised by the turbine's nominal (nameplate) power, so that
multiplying it by a plant's capacity in kW gives its kWh.  Some manufacturer
curves exceed the nameplate slightly (E-53/800 reaches 810 kW, 1.0125 kW/kW);
pass ``normalize="peak"`` to divide by the curve's maximum instead.

Below the first and above the last tabulated wind speed of the curve the
output is 0 (cut-in and cut-out; the last tabulated speed is taken as the
cut-out speed).  Hourly mean wind speeds are fed straight through the curve
(no intra-hour turbulence correction).  The curve is corrected for the air
density at hub height by default (IEC 61400-12-1 through windpowerlib: the
density from the weather's temperature and pressure; energy is about 2-3 %
lower than with the standard 1.225 kg/m3 at a warm site), and a note says so.  No wake or availability losses are
applied; apply them downstream as an explicit derate if needed.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd
import windpowerlib
from windpowerlib import density as wpl_density
from windpowerlib import power_output
from windpowerlib import temperature as wpl_temperature
from windpowerlib import wind_speed as wpl_wind_speed

from sim.errors import InputError
from sim.inputs.weather import validate_weather

__all__ = ["wind_kwh_per_kw", "turbine_types", "hub_wind_speed",
           "turbine_power_curve", "turbine_count", "scaled_turbines"]

_OEDB = os.path.join(os.path.dirname(windpowerlib.__file__), "oedb")


@functools.lru_cache(maxsize=1)
def _library():
    """windpowerlib's shipped turbine data and power curves (read once)."""
    data = pd.read_csv(os.path.join(_OEDB, "turbine_data.csv"), index_col=0)
    curves = pd.read_csv(os.path.join(_OEDB, "power_curves.csv"), index_col=0)
    return data, curves


def turbine_types():
    """Turbine types with a real power curve in windpowerlib's library.

    Returns
    -------
    pandas.DataFrame
        One row per turbine type, sorted by name, columns
        ``turbine_type``, ``manufacturer``, ``nominal_power_kw`` [kW],
        ``rotor_diameter_m`` [m], ``hub_heights_m`` (str, as listed by the
        library, ``;``-separated), ``cut_in_m_s`` [m/s] (the highest
        tabulated speed with zero output below the first non-zero one; the
        output is 0 at and below it), ``cut_out_m_s`` [m/s] (the last
        tabulated speed; the output is 0 above it) and ``curve_max_kw``
        [kW].
    """
    data, curves = _library()
    rows = []
    for name in sorted(curves.index):
        c = curves.loc[name].dropna()
        ws = c.index.astype(float).to_numpy()
        p = c.to_numpy(dtype=float)
        d = data.loc[name] if name in data.index else None
        nz = np.flatnonzero(p > 0)
        first = int(nz[0]) if nz.size else 0
        rows.append({
            "turbine_type": name,
            "manufacturer": None if d is None else d["manufacturer"],
            "nominal_power_kw": (np.nan if d is None
                                 else float(d["nominal_power"]) / 1000.0),
            "rotor_diameter_m": (np.nan if d is None
                                 else float(d["rotor_diameter"])),
            "hub_heights_m": (None if d is None or pd.isna(d["hub_height"])
                              else str(d["hub_height"])),
            "cut_in_m_s": float(ws[max(first - 1, 0)]),
            "cut_out_m_s": float(ws.max()),
            "curve_max_kw": float(p.max()) / 1000.0,
        })
    return pd.DataFrame(rows)


@functools.lru_cache(maxsize=256)
def _curve(turbine_type):
    data, curves = _library()
    if not isinstance(turbine_type, str) or turbine_type not in curves.index:
        valid = sorted(curves.index)
        sample = ", ".join(["E-53/800", "E-82/2300", "V90/2000", "E-70/2300"]
                           + [v for v in valid if v.startswith("V1")][:2])
        raise InputError(f"unknown turbine type {turbine_type!r}; expected one "
                         f"of windpowerlib's {len(valid)} types such as "
                         f"{sample} (see sim.physics.wind.turbine_types())",
                         field="turbine_type")
    c = curves.loc[turbine_type].dropna()
    ws = c.index.astype(float).to_numpy()
    order = np.argsort(ws)
    p = c.to_numpy(dtype=float)[order] / 1000.0  # W -> kW
    nominal = float(data.loc[turbine_type, "nominal_power"]) / 1000.0 \
        if turbine_type in data.index else float(p.max())
    ws = ws[order]
    ws.flags.writeable = False
    p.flags.writeable = False
    return ws, p, nominal


def turbine_power_curve(turbine_type):
    """Power curve of a library turbine.

    Parameters
    ----------
    turbine_type : str
        Name as in :func:`turbine_types`, e.g. ``"E-53/800"``.

    Returns
    -------
    wind_speed : numpy.ndarray
        Tabulated hub-height wind speeds. [m/s]
    power : numpy.ndarray
        Electrical power at those speeds. [kW]
    nominal_power : float
        Nameplate power. [kW]

    Raises
    ------
    InputError
        If ``turbine_type`` is not in the library.
    """
    ws, p, nominal = _curve(turbine_type)
    return ws.copy(), p.copy(), nominal


def hub_wind_speed(wind_speed, *, measurement_height, hub_height,
                   roughness_length=0.15, method="logarithmic",
                   hellman_exponent=None):
    """Extrapolate wind speed from the measurement height to the hub.

    Parameters
    ----------
    wind_speed : array-like
        Wind speed at ``measurement_height``. [m/s]
    measurement_height, hub_height : float
        Heights above ground. [m]
    roughness_length : float, default 0.15
        Surface roughness length z0. [m]
    method : {"logarithmic", "hellman"}
        ``"logarithmic"``: ``v * ln(h/z0) / ln(h_ref/z0)``
        (:func:`windpowerlib.wind_speed.logarithmic_profile`);
        ``"hellman"``: ``v * (h/h_ref)**alpha`` with
        ``alpha = hellman_exponent`` if given, else ``1/ln(h/z0)``
        (:func:`windpowerlib.wind_speed.hellman`).
    hellman_exponent : float, optional
        Hellman exponent alpha. [-]

    Returns
    -------
    numpy.ndarray
        Wind speed at hub height. [m/s]
    """
    v = np.asarray(wind_speed, dtype=float)
    if method == "logarithmic":
        out = wpl_wind_speed.logarithmic_profile(
            v, measurement_height, hub_height, roughness_length)
    elif method == "hellman":
        if hellman_exponent is not None:
            out = wpl_wind_speed.hellman(v, measurement_height, hub_height,
                                         hellman_exponent=hellman_exponent)
        else:
            out = wpl_wind_speed.hellman(v, measurement_height, hub_height,
                                         roughness_length=roughness_length)
    else:
        raise InputError(f"expected method 'logarithmic' or 'hellman', got "
                         f"{method!r}", field="method")
    return np.asarray(out, dtype=float)


def _positive(name, value, hi):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and 0 < v <= hi):
        raise InputError(f"expected {name} in (0, {hi:g}] m, got {value!r}",
                         field=name)
    return v


def wind_kwh_per_kw(weather, *, hub_height, turbine_type="E-53/800",
                    measurement_height=None, roughness_length=0.15,
                    method="logarithmic", hellman_exponent=None,
                    density_correction=True, normalize="nominal", losses_percent=0.0,
                    notes=None):
    """Energy per kW of rated wind capacity in each hour of a weather year.

    Parameters
    ----------
    weather : pandas.DataFrame
        Weather year from :func:`sim.inputs.weather.load_weather` with column
        ``wind_speed`` [m/s]; ``temp_air`` [°C] and ``pressure`` [Pa] are
        needed only with ``density_correction``.
    hub_height : float
        Hub height above ground. [m]
    turbine_type : str, default "E-53/800"
        A type with a power curve in windpowerlib's library
        (:func:`turbine_types`).
    measurement_height : float, optional
        Height of ``weather["wind_speed"]``; default
        ``weather.attrs["wind_height"]`` (10 m if absent). [m]
    roughness_length : float, default 0.15
        Surface roughness length z0 (0.0002 open sea, 0.03 open flat land,
        0.1-0.25 farmland with hedges/coastal villages). [m]
    method : {"logarithmic", "hellman"}, default "logarithmic"
        Height extrapolation, see :func:`hub_wind_speed`.
    hellman_exponent : float, optional
        Exponent for ``method="hellman"``; default ``1/ln(hub_height/z0)``.
    density_correction : bool, default True
        Correct the power curve for air density at hub height (IEC
        61400-12 via :func:`windpowerlib.power_output.power_curve`); density
        at hub height from ``pressure`` (taken at ground level) and
        ``temp_air`` (taken at 2 m) with
        :func:`windpowerlib.density.barometric` and
        :func:`windpowerlib.temperature.linear_gradient` (-6.5 K/km).
    normalize : {"nominal", "peak"}, default "nominal"
        Divide by the nameplate power, or by the power curve's maximum.
    losses_percent : float, default 0.0
        Lumped losses between the power curve and the meter (availability,
        wake, electrical, blade soiling and icing, curtailment for
        maintenance), applied as a uniform derate like PVWatts' system
        losses. [%]

    Returns
    -------
    numpy.ndarray
        float64, shape ``(len(weather),)``: energy in each hour per kW of
        capacity. [kWh/kW]  0 below cut-in and above cut-out.

    Raises
    ------
    InputError
        Unknown turbine type, bad heights or roughness, missing or
        non-finite weather columns.
    """
    columns = ("wind_speed", "temp_air", "pressure") if density_correction \
        else ("wind_speed",)
    validate_weather(weather, columns=columns)
    hub = _positive("hub_height", hub_height, 300)
    if measurement_height is None:
        measurement_height = weather.attrs.get("wind_height", 10.0)
    h_ref = _positive("measurement_height", measurement_height, 300)
    z0 = _positive("roughness_length", roughness_length, 5)
    if method == "logarithmic" and min(hub, h_ref) <= z0:
        raise InputError(f"expected heights above the roughness length "
                         f"{z0:g} m for the logarithmic profile",
                         field="roughness_length")
    if normalize not in ("nominal", "peak"):
        raise InputError(f"expected normalize 'nominal' or 'peak', got "
                         f"{normalize!r}", field="normalize")
    if not 0.0 <= losses_percent < 100.0:
        raise InputError(f"expected losses_percent in [0, 100), got {losses_percent!r}",
                         field="losses_percent")
    ws_curve, p_curve, nominal = _curve(turbine_type)
    v = weather["wind_speed"].to_numpy(dtype=float)
    if (v < 0).any():
        raise InputError("negative wind speed; expected >= 0 m/s",
                         source=weather.attrs.get("source"),
                         field="wind_speed")
    v_hub = hub_wind_speed(v, measurement_height=h_ref, hub_height=hub,
                           roughness_length=z0, method=method,
                           hellman_exponent=hellman_exponent)
    if density_correction:
        t_hub = wpl_temperature.linear_gradient(
            weather["temp_air"].to_numpy(dtype=float) + 273.15, 2.0, hub)
        # pressure column taken at ground level (height 0)
        rho = wpl_density.barometric(
            weather["pressure"].to_numpy(dtype=float), 0.0, hub,
            np.asarray(t_hub, dtype=float))
        kw = power_output.power_curve(v_hub, ws_curve, p_curve,
                                      density=rho, density_correction=True)
        if notes is not None:
            notes.append(f"wind: {turbine_type} power curve corrected for air density "
                         f"at {hub:g} m hub height (IEC 61400-12-1, windpowerlib): mean "
                         f"{float(np.mean(rho)):.3f} kg/m3 from the weather's temperature "
                         f"and pressure (curve at 1.225)")
    else:
        kw = power_output.power_curve(v_hub, ws_curve, p_curve)
    kw = np.asarray(kw, dtype=float)
    denom = nominal if normalize == "nominal" else float(p_curve.max())
    out = kw * (1.0 - losses_percent / 100.0) / denom
    if not np.all(np.isfinite(out)):  # pragma: no cover - model guard
        raise RuntimeError("non-finite wind output")
    return out


def turbine_count(capacity_kw, turbine_type, turbines=None):
    """Number of turbines of a wind row, checked against the rating.

    Parameters
    ----------
    capacity_kw : float
        The row's capacity. [kW]
    turbine_type : str
        A library type (:func:`turbine_types`).
    turbines : int, optional
        Number of turbines stated by the row.

    Returns
    -------
    int
        ``capacity_kw / rating`` when it is a whole number, else ``turbines``.

    Raises
    ------
    InputError
        If ``capacity_kw`` is not a whole number of the turbine's rating and
        ``turbines`` is not given (2,000 kW of 800 kW turbines would be 2.5
        turbines), or ``turbines`` times the rating is below ``capacity_kw``.
    """
    nominal = _curve(turbine_type)[2]
    if turbines is None:
        n = capacity_kw / nominal
        if abs(n - round(n)) > 1e-6 or round(n) < 1:
            raise InputError(f"capacity_kw {capacity_kw:g} is {n:.3g} turbines of "
                             f"{turbine_type} ({nominal:g} kW each); expected a whole "
                             f"number, or give turbines = N (the capacity then caps "
                             f"the output, e.g. a grid-connection limit)",
                             field="capacity_kw")
        return int(round(n))
    if turbines * nominal < capacity_kw - 1e-6:
        raise InputError(f"turbines = {turbines} x {nominal:g} kW = "
                         f"{turbines * nominal:g} kW is less than capacity_kw "
                         f"{capacity_kw:g}", field="turbines")
    return int(turbines)


def scaled_turbines(factors, *, capacity_kw, turbine_type, turbines=None):
    """Turbines of a wind row whose capacity is scaled by ``factors``.

    A sweep or an optimisation scales a row's output with its capacity
    (output proportional to ``capacity_kw``), which is only a farm of real
    turbines when the scaled number of turbines is whole: the row's turbines
    (``turbines``, else ``capacity_kw`` / rating) times the factor.

    Parameters
    ----------
    factors : array-like
        Capacity factors applied to the row (new capacity / row capacity). [-]
    capacity_kw : float
        The row's capacity. [kW]
    turbine_type : str
        A library type (:func:`turbine_types`).
    turbines : int, optional
        Number of turbines stated by the row.

    Returns
    -------
    n : ndarray
        Turbines for each factor. [-]
    fractional : ndarray of int
        Indices of the factors that give part of a turbine (0 turbines, the
        row removed, is whole).
    rating : float
        The turbine's rating. [kW]
    """
    rating = _curve(turbine_type)[2]
    base = capacity_kw / rating if turbines is None else float(turbines)
    n = base * np.asarray(factors, dtype=float)
    fractional = np.flatnonzero(np.abs(n - np.round(n)) > 1e-6)
    return n, fractional, rating
