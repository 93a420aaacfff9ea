"""Checks of metered data against physics: the sun, the weather and the clock.

Used by :mod:`sim.studies.verify` before any figure is trusted:

* :func:`sun_reference` — the claim site's sun: hours with the sun below the
  horizon (no PV output possible), clear-sky plane-of-array irradiance per PV
  orientation (pvlib, Ineichen model) and solar noon per day;
* :func:`clock_checks` — each PV meter's daily output centre against the
  clear-sky centre (solar noon), PV output at night, the consumers' clock
  against their demand archetypes, and the lag that best aligns plants with
  consumers; a shift of :data:`SHIFT_LIMIT_H` or more is a reason;
* :func:`plausibility` — each PV meter's monthly kWh/kWp against what the
  claim's weather allows (the same pvlib model as ``gxsim run``) and a
  clear-sky bound, each wind meter's capacity factor against a band; the
  energy above the limits is returned so the verdict can tell whether the
  outliers decide it.

Sign convention: a positive shift means the time stamps are LATE (the energy
of 12:00 is labelled 13:00 or later).
"""

from __future__ import annotations

import functools
import json
import warnings

import numpy as np
import pandas as pd

#: a measured shift from this many hours on counts as a clock shift of an hour
#: or more (hourly data measure a 1 h shift as 0.75-1.25 h)
SHIFT_LIMIT_H = 0.75
#: PV output in hours with the sun down above this share of the meter's energy
NIGHT_SHARE_LIMIT = 0.01
#: clear-sky bound: no losses at all, plus this margin (cold cells, cloud edges)
CLEAR_SKY_MARGIN = 0.05
#: wind capacity factor band: a month above the first or a year above the second
WIND_CF_MONTH_MAX, WIND_CF_YEAR_MAX = 0.75, 0.50
#: the consumers' shift against their archetypes counts only at this correlation
#: and when it raises the correlation by this much over the stamps as they are
ARCHETYPE_CORR, ARCHETYPE_GAIN = 0.7, 0.05
_MAX_LAG_H = 12


# --------------------------------------------------------------------------
# the site's sun
# --------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _sun(lat: float, lon: float, alt: float, year: int, tz: str, orient: tuple):
    import pvlib

    from sim.core.engine import calendar_index
    from sim.inputs.weather import solar_position_hourly

    index = calendar_index(year, tz)
    sp = solar_position_hourly(index, lat, lon, alt)
    mid = index + pd.Timedelta(minutes=30)
    loc = pvlib.location.Location(lat, lon, tz, alt)
    spm = pvlib.solarposition.get_solarposition(mid, lat, lon, alt)
    with warnings.catch_warnings():   # pvlib 0.16 uses pandas' deprecated dayofyear
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        cs = loc.get_clearsky(mid, solar_position=spm)
    poa = {}
    for tilt, az in orient:
        irr = pvlib.irradiance.get_total_irradiance(
            tilt, az, spm["apparent_zenith"], spm["azimuth"], cs["dni"], cs["ghi"],
            cs["dhi"])
        poa[(tilt, az)] = np.nan_to_num(irr["poa_global"].to_numpy()) / 1000.0  # kWh/m2
    days = index[::24]
    eot = pvlib.solarposition.equation_of_time_spencer71(days.day_of_year)  # [min]
    offset_h = days[0].utcoffset().total_seconds() / 3600
    noon = 12.0 + offset_h - lon / 15.0 - np.asarray(eot) / 60.0   # local clock hours
    dark = sp["sunlit_fraction"].to_numpy() <= 0
    return index, dark, poa, noon


def sun_reference(claim) -> dict:
    """The claim site's sun over the claim's year (cached per site and year).

    Returns
    -------
    dict
        ``index`` (hour starts), ``dark`` (H,) bool: sun below the horizon
        the whole hour, ``poa`` {(tilt, azimuth): (H,) clear-sky in-plane
        irradiation [kWh/m²]}, ``noon`` (days,) solar noon [local clock h].
    """
    r = claim.region
    orient = tuple(sorted({(float(g.tilt), float(g.azimuth)) for g in claim.generators
                           if g.kind == "pv"}))
    index, dark, poa, noon = _sun(float(r.latitude), float(r.longitude),
                                  float(r.altitude_m), int(r.year), r.timezone, orient)
    return {"index": index, "dark": dark, "poa": poa, "noon": noon}


def dark_hours(claim, sun: dict) -> dict:
    """PV meter -> hours with the sun down (gap filling puts 0 kWh there)."""
    return {g.meter: sun["dark"] for g in claim.generators if g.kind == "pv"}


# --------------------------------------------------------------------------
# clock
# --------------------------------------------------------------------------
def _centre_shift(e: np.ndarray, ref: np.ndarray) -> tuple[float, int]:
    """Median over days of (output centre - reference centre) [h], and days used."""
    D = len(e) // 24
    e, ref = e[: D * 24].reshape(D, 24), ref[: D * 24].reshape(D, 24)
    h = np.arange(24) + 0.5
    tot = e.sum(axis=1)
    ok = np.isfinite(tot) & (tot > 0) & (ref.sum(axis=1) > 0) & (e >= 0).all(axis=1)
    if ok.sum() < 10:
        return float("nan"), int(ok.sum())
    c_e = (e[ok] * h).sum(axis=1) / tot[ok]
    c_r = (ref[ok] * h).sum(axis=1) / ref[ok].sum(axis=1)
    return float(np.median(c_e - c_r)), int(ok.sum())


def _best_lag(a: np.ndarray, b: np.ndarray, at_zero: bool = False):
    """Lag L [h] maximising corr(a(t), b(t - L)), refined to a fraction; its corr
    (and, with ``at_zero``, the corr at lag 0)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 24 * 14 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return (float("nan"),) * (3 if at_zero else 2)
    a = np.where(ok, a - a[ok].mean(), 0.0)
    b = np.where(ok, b - b[ok].mean(), 0.0)
    lags = np.arange(-_MAX_LAG_H, _MAX_LAG_H + 1)
    c = np.array([np.dot(a, np.roll(b, L)) for L in lags])
    c /= np.sqrt(np.dot(a, a) * np.dot(b, b))
    k = int(np.argmax(c))
    frac = 0.0
    if 0 < k < len(c) - 1:   # parabola through the peak and its neighbours
        den = c[k - 1] - 2 * c[k] + c[k + 1]
        frac = 0.5 * (c[k - 1] - c[k + 1]) / den if den < 0 else 0.0
    if at_zero:
        return float(lags[k] + frac), float(c[k]), float(c[_MAX_LAG_H])
    return float(lags[k] + frac), float(c[k])


def _modelled_demand(claim, index: pd.DatetimeIndex, energy: pd.Series) -> np.ndarray:
    """The consumers' archetype shapes scaled to their metered energy [kWh]."""
    from sim.physics.demand import demand_kwh

    per_shape: dict[str, float] = {}
    by_meter = energy.to_dict()  # a dict: a Series lookup per consumer is slow at 10,000
    for c in claim.consumers:
        per_shape[c.shape] = per_shape.get(c.shape, 0.0) + float(by_meter.get(c.meter, 0.0))
    out = np.zeros(len(index))
    for shape, total in per_shape.items():
        out += total * demand_kwh(1.0, shape, index)
    return out


def _fmt_h(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    m = int(round(x * 60)) % (24 * 60)
    return f"{m // 60:02d}:{m % 60:02d}"


def _pv_clock(claim, kwh: pd.DataFrame, sun: dict) -> list[dict]:
    rows = []
    for g in claim.generators:
        if g.kind != "pv" or g.meter not in kwh:
            continue
        e = kwh[g.meter].to_numpy(dtype=float)
        ref = sun["poa"][(float(g.tilt), float(g.azimuth))]
        # whole hours from the best-aligning lag (a shift may cross midnight), the
        # fraction from the daily output centres once those hours are undone
        lag, _ = _best_lag(e, ref)
        whole = int(round(lag)) if np.isfinite(lag) else 0
        shift, days = _centre_shift(np.roll(e, -whole), ref)
        shift += whole
        D = len(e) // 24
        ed = e[: D * 24].reshape(D, 24)
        full = np.isfinite(ed).all(axis=1) & (np.nan_to_num(ed).sum(axis=1) > 0)
        peak = (np.argmax(np.nan_to_num(ed[full]), axis=1) + 0.5) - sun["noon"][:D][full]
        night = sun["dark"] & np.isfinite(e) & (e > 0.002 * g.capacity_kw)
        total = float(np.nansum(e))
        night_kwh = float(e[night].sum())
        rows.append({"meter": g.meter, "shift_h": shift, "days": days,
                     "peak_minus_noon_h": float(np.median(peak)) if full.any() else np.nan,
                     "solar_noon": _fmt_h(float(np.mean(sun["noon"]))),
                     "night_hours": int(night.sum()), "night_kwh": night_kwh,
                     "night_share": night_kwh / total if total > 0 else 0.0})
    return rows


def clock_checks(claim, kwh: pd.DataFrame, consumers: pd.Series, energy: pd.Series,
                 sun: dict) -> dict:
    """Clock shifts of the plants (vs the sun) and consumers (vs their archetypes).

    Parameters
    ----------
    claim : Claim
    kwh : pandas.DataFrame
        Hourly metered kWh of the plant meters, columns meter ids (gaps NaN).
    consumers : pandas.Series
        Hourly metered kWh of all consumer meters together (NaN: none metered).
    energy : pandas.Series
        Metered kWh of each consumer meter over the year.
    sun : dict
        From :func:`sun_reference`.

    Returns
    -------
    dict
        ``pv`` (one row per PV meter: ``shift_h``, ``peak_minus_noon_h``,
        ``night_hours``, ``night_kwh``, ``night_share``), ``plants_shift_h``,
        ``consumers_shift_h`` (with ``consumers_corr`` at that lag and
        ``consumers_corr_at_0``), ``plants_vs_consumers_lag_h`` (measured, and
        ``..._expected_h`` from the sun and the archetypes; reported only: the
        two shifts above decide), and ``reasons`` (each a shift of
        :data:`SHIFT_LIMIT_H` or more, or night output).
    """
    pv = _pv_clock(claim, kwh, sun)
    w = np.array([np.nansum(kwh[r["meter"]].to_numpy()) for r in pv])
    s = np.array([r["shift_h"] for r in pv])
    ok = np.isfinite(s) & (w > 0)
    plants = float(np.average(s[ok], weights=w[ok])) if ok.any() else float("nan")
    metered = consumers.to_numpy(dtype=float)
    model = _modelled_demand(claim, kwh.index, energy)
    cons_shift, cons_corr, cons_corr0 = _best_lag(metered, model, at_zero=True)
    pv_tot = kwh[[r["meter"] for r in pv]].sum(axis=1, min_count=1).to_numpy(dtype=float) \
        if pv else np.full(len(kwh), np.nan)
    ref_tot = sum(sun["poa"][(float(g.tilt), float(g.azimuth))] * g.capacity_kw
                  for g in claim.generators if g.kind == "pv") if pv else pv_tot
    lag, _ = _best_lag(metered, pv_tot)
    lag_exp, _ = _best_lag(model, ref_tot)
    out = {"pv": pv, "plants_shift_h": plants, "consumers_shift_h": cons_shift,
           "consumers_corr": cons_corr, "consumers_corr_at_0": cons_corr0,
           "plants_vs_consumers_lag_h": lag,
           "plants_vs_consumers_lag_expected_h": lag_exp, "limit_h": SHIFT_LIMIT_H}
    out["reasons"] = _clock_reasons(out)
    return out


def _clock_reasons(c: dict) -> list[str]:
    reasons = []
    bad = [r for r in c["pv"] if np.isfinite(r["shift_h"])
           and abs(r["shift_h"]) >= SHIFT_LIMIT_H]
    if bad:
        reasons.append(
            "the PV meters' clock is shifted: daily output centred "
            + ", ".join(f"{r['meter']} {r['shift_h']:+.1f} h" for r in bad[:6])
            + f" from the clear-sky centre at the claim's site (solar noon ~"
            f"{bad[0]['solar_noon']}; daily peak {bad[0]['peak_minus_noon_h']:+.1f} h from "
            f"noon); positive = time stamps late")
    night = [r for r in c["pv"] if r["night_share"] > NIGHT_SHARE_LIMIT]
    if night:
        reasons.append("PV output with the sun below the horizon: " + ", ".join(
            f"{r['meter']} {r['night_kwh']:,.0f} kWh in {r['night_hours']} h "
            f"({r['night_share']:.1%})" for r in night[:6]))
    cs = c["consumers_shift_h"]
    # decisive only where the archetypes describe the consumers and the shift
    # clearly improves on the stamps as they are
    archetypes_fit = (c["consumers_corr"] >= ARCHETYPE_CORR and
                      c["consumers_corr"] - c["consumers_corr_at_0"] >= ARCHETYPE_GAIN)
    if np.isfinite(cs) and abs(cs) >= SHIFT_LIMIT_H and archetypes_fit:
        reasons.append(f"the consumer meters' clock is shifted {cs:+.1f} h against their "
                       f"demand archetypes (best-aligning lag; correlation "
                       f"{c['consumers_corr']:.2f}, {c['consumers_corr_at_0']:.2f} as stamped)")
    return reasons


# --------------------------------------------------------------------------
# plausibility
# --------------------------------------------------------------------------
#: modelled outputs of the last few plant sets (key: :func:`modelled_output`)
_MODELLED: dict[str, np.ndarray] = {}


def modelled_output(claim, scenario) -> np.ndarray:
    """(G, H) output of the claim's plants modelled on its weather [kWh].

    Cached for the last four sets of plants, keyed by what the output depends
    on (the region, options, generators and weather file), not by the
    consumers: serialising and validating 10,000 of them again cost 0.3 s.
    The array returned is shared: do not write to it.
    """
    from sim.core.engine import generator_output
    from sim.inputs.weather import load_weather

    src = getattr(getattr(claim, "weather", None), "source", "default")
    path = None if src == "default" else str(claim.resolve(src))
    key = json.dumps([scenario.region.model_dump(mode="json"),
                      scenario.options.model_dump(mode="json"),
                      [g.model_dump(mode="json") for g in scenario.generators], path])
    out = _MODELLED.get(key)
    if out is None:
        r = scenario.region
        weather = load_weather(path, latitude=r.latitude, longitude=r.longitude,
                               altitude=r.altitude_m, year=r.year, timezone=r.timezone)
        out = _MODELLED[key] = generator_output(scenario, weather)
        out.flags.writeable = False
        while len(_MODELLED) > 4:
            _MODELLED.pop(next(iter(_MODELLED)))
    return out


def plausibility(claim, kwh: pd.DataFrame, modelled: np.ndarray, sun: dict,
                 tolerance: float) -> dict:
    """Monthly PV yield and wind capacity factor against what is physically possible.

    Parameters
    ----------
    kwh : pandas.DataFrame
        Hourly metered kWh per meter (gaps NaN).
    modelled : ndarray (G, H)
        The claim's plants modelled on the claim's weather [kWh].
    tolerance : float
        Share by which a PV month may exceed the weather model [-].

    Returns
    -------
    dict
        ``outliers``: one row per (meter, month) above its limit: ``meter``,
        ``month``, ``kwh_per_kw``, ``allowed_per_kw`` (the lower of the
        weather model x (1 + tolerance) and the clear-sky bound), ``basis``,
        ``excess_kwh``; ``excess_kwh`` in all; ``low`` (PV months under half
        the model, listed only).
    """
    month = kwh.index.month.to_numpy()
    outliers, low = [], []
    for gi, g in enumerate(claim.generators):
        if g.kind not in ("pv", "wind") or g.meter not in kwh:
            continue
        e = kwh[g.meter].to_numpy(dtype=float)
        has = np.isfinite(e)
        for m in range(1, 13):
            sel = (month == m) & has
            if sel.sum() < 24 * 7:
                continue
            got = float(e[sel].sum())
            if g.kind == "pv":
                model = float(modelled[gi][sel].sum()) * (1 + tolerance)
                clear = float(sun["poa"][(float(g.tilt), float(g.azimuth))][sel].sum()) \
                    * g.capacity_kw * (1 + CLEAR_SKY_MARGIN)
                allowed, basis = ((model, f"claim's weather +{tolerance:.0%}")
                                  if model <= clear else (clear, "clear-sky bound"))
                if got < 0.5 * modelled[gi][sel].sum():
                    low.append({"meter": g.meter, "month": m,
                                "ratio": got / max(modelled[gi][sel].sum(), 1e-9)})
            else:
                allowed = WIND_CF_MONTH_MAX * g.capacity_kw * sel.sum()
                basis = f"capacity factor {WIND_CF_MONTH_MAX:.0%}"
            if got > allowed * (1 + 1e-9):
                outliers.append({"meter": g.meter, "month": m,
                                 "kwh_per_kw": got / g.capacity_kw,
                                 "allowed_per_kw": allowed / g.capacity_kw, "basis": basis,
                                 "excess_kwh": got - allowed})
        if g.kind == "wind" and has.sum() > 24 * 30:
            cf = float(e[has].sum()) / (g.capacity_kw * has.sum())
            if cf > WIND_CF_YEAR_MAX:
                already = sum(o["excess_kwh"] for o in outliers if o["meter"] == g.meter)
                excess = float(e[has].sum()) - WIND_CF_YEAR_MAX * g.capacity_kw * has.sum()
                outliers.append({"meter": g.meter, "month": 0, "kwh_per_kw": cf,
                                 "allowed_per_kw": WIND_CF_YEAR_MAX,
                                 "basis": "annual capacity factor",
                                 "excess_kwh": max(0.0, excess - already)})
    return {"outliers": outliers, "low": low, "tolerance": tolerance,
            "excess_kwh": float(sum(o["excess_kwh"] for o in outliers))}
