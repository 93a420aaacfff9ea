"""The baseline an analyst would write with pandas (one loop over hours,
DataFrames with hours as rows and consumers as columns), for the benchmarks.
Same semantics as docs/design.md section 4 and tests/reference.py."""

from __future__ import annotations

import numpy as np
import pandas as pd


def pandas_match(demand: pd.DataFrame, onsite: pd.DataFrame, offsite: pd.Series, *,
                 battery_kwh: pd.Series, battery_kw: pd.Series, efficiency=0.9,
                 community_kwh=0.0, community_kw=0.0, must_run: pd.Series) -> dict:
    k = np.sqrt(efficiency)
    has = battery_kwh > 0
    soc = battery_kwh * 0.0
    soc_c = 0.0
    rows = {n: [] for n in ("direct", "charge", "discharge", "export", "pooled",
                            "community", "grid", "soc")}
    hourly = {n: [] for n in ("pool", "spill", "community_charge", "community_soc")}
    for t in demand.index:
        d, g = demand.loc[t], onsite.loc[t]
        direct = pd.concat([d, g], axis=1).min(axis=1)
        surplus, deficit = g - direct, d - direct
        charge = pd.concat([surplus, battery_kw, (battery_kwh - soc) / k], axis=1).min(axis=1)
        charge = charge.where(has, 0.0)
        soc = soc + charge * k
        discharge = pd.concat([deficit, battery_kw, soc * k], axis=1).min(axis=1)
        discharge = discharge.where(has, 0.0)
        soc = soc - discharge / k
        export, residual = surplus - charge, deficit - discharge
        pool = offsite.loc[t] + export.sum()
        res_sum = residual.sum()
        cap = max(0.0, res_sum - must_run.loc[t])
        deliver = min(pool, cap)
        pooled = residual.copy() if deliver >= res_sum else residual * (deliver / res_sum)
        leftover = pool - pooled.sum()
        c_ch = c_dis = 0.0
        community = residual * 0.0
        if community_kwh > 0:
            c_ch = min(leftover, community_kw, (community_kwh - soc_c) / k)
            soc_c += c_ch * k
            remaining = residual - pooled
            c_dis = max(0.0, min(remaining.sum(), community_kw, soc_c * k,
                                 cap - pooled.sum()))
            soc_c -= c_dis / k
            if remaining.sum() > 0:
                community = remaining * (c_dis / remaining.sum())
        for n, v in zip(rows, (direct, charge, discharge, export, pooled, community,
                               residual - pooled - community, soc)):
            rows[n].append(v)
        hourly["pool"].append(pool)
        hourly["spill"].append(leftover - c_ch)
        hourly["community_charge"].append(c_ch)
        hourly["community_soc"].append(soc_c)
    out = {n: pd.DataFrame(v, index=demand.index) for n, v in rows.items()}
    out.update({n: pd.Series(v, index=demand.index) for n, v in hourly.items()})
    return out
