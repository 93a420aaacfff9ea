"""Synthetic regions and inputs for the benchmarks (no files needed).

``region_scenario(n)`` builds a scenario of ``n`` consumer rows in the island
demo's location: mostly households, some shops, offices and public buildings;
every second row has rooftop PV at one of four orientations (so pvlib runs four
times, whatever ``n``), every fourth a home battery; an off-site solar farm,
wind and a community battery feed the pool. ``kernel_inputs(n)`` makes plain
arrays of the same kind for the kernel alone.
"""

from __future__ import annotations

import numpy as np

from sim.inputs.scenario import scenario_from_dict

ORIENTATIONS = ((20.0, 180.0), (10.0, 160.0), (10.0, 200.0), (30.0, 90.0))
ARCHETYPES = (("household", None, 4_500.0), ("household", None, 3_000.0),
              ("commercial", "commerce", 40_000.0), ("commercial", "office", 60_000.0),
              ("public", "school", 120_000.0))


def region_dict(n_consumers: int, *, dtype: str = "float32", seed: int = 0) -> dict:
    """The scenario mapping (as read from TOML) of an ``n_consumers`` region."""
    rng = np.random.default_rng(seed)
    consumers, generators, storage = [], [], []
    kinds = rng.choice(len(ARCHETYPES), size=n_consumers, p=[0.55, 0.3, 0.08, 0.05, 0.02])
    # One draw per row for the annual kWh and one more per PV row, in row
    # order: drawn at once (the same stream, so the same values, as one
    # ``rng.uniform`` call per draw; a million rows in seconds).
    per_row = 1 + (np.arange(n_consumers) % 2 == 0)
    u = rng.random(int(per_row.sum()))
    first = np.concatenate(([0], np.cumsum(per_row)[:-1]))
    kwh_u = 0.6 + (1.4 - 0.6) * u[first]
    pv_u = 0.5 + (1.5 - 0.5) * u[np.minimum(first + 1, len(u) - 1)]
    for i, k in enumerate(kinds.tolist()):
        sector, archetype, kwh = ARCHETYPES[k]
        row = {"id": f"c{i:05d}", "sector": sector, "annual_kwh": float(kwh * kwh_u[i]),
               "savings": 0.03 if i % 3 == 0 else 0.0}
        if archetype:
            row["archetype"] = archetype
        consumers.append(row)
        if i % 2 == 0:
            tilt, azimuth = ORIENTATIONS[(i // 2) % len(ORIENTATIONS)]
            generators.append({"id": f"pv{i:05d}", "kind": "pv", "site": row["id"],
                               "capacity_kw": round(kwh / 1_100 * float(pv_u[i]), 2),
                               "tilt": tilt, "azimuth": azimuth})
        if i % 4 == 0:
            storage.append({"id": f"b{i:05d}", "site": row["id"],
                            "capacity_kwh": 6.5 * kwh / 4_500, "power_kw": 3.0 * kwh / 4_500})
    total = sum(c["annual_kwh"] for c in consumers)
    generators.append({"id": "solar_farm", "kind": "pv", "capacity_kw": total / 1_200 * 0.4,
                       "tilt": 15})
    # whole E-53/800 turbines (the wind model refuses a fraction of one)
    turbines = max(1, round(total / 2_500 * 0.2 / 800))
    generators.append({"id": "wind", "kind": "wind", "capacity_kw": 800.0 * turbines,
                       "turbine_type": "E-53/800", "hub_height_m": 60})
    storage.append({"id": "community_battery", "site": "community",
                    "capacity_kwh": total / 8760 * 2, "power_kw": total / 8760 / 2})
    return {
        "region": {"name": f"benchmark region {n_consumers}", "municipality": "和泊町",
                   "prefecture": "鹿児島県", "latitude": 27.37, "longitude": 128.57,
                   "altitude_m": 20, "year": 2023},
        "weather": {"source": "default"},
        "grid": {"isolated": True, "must_run_kw": total / 8760 * 0.15},
        "options": {"battery_efficiency": 0.9, "dtype": dtype},
        "consumers": consumers, "generators": generators, "storage": storage,
    }


def region_scenario(n_consumers: int, *, dtype: str = "float32", seed: int = 0):
    """A validated :class:`sim.Scenario` of an ``n_consumers`` region."""
    return scenario_from_dict(region_dict(n_consumers, dtype=dtype, seed=seed))


def kernel_inputs(n_consumers: int, n_hours: int = 8760, *, seed: int = 0) -> dict:
    """Keyword arguments for ``sim.match``: demand, PV-shaped on-site output,
    off-site supply, a battery at every fourth consumer, a community battery
    and a must-run floor (float64)."""
    rng = np.random.default_rng(seed)
    hour = np.arange(n_hours) % 24
    day = np.arange(n_hours) // 24
    sun = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None)
    cloud = np.repeat(rng.uniform(0.2, 1.0, n_hours // 24 + 1), 24)[:n_hours]
    base = 0.35 + 0.25 * np.cos((hour - 19) / 24 * 2 * np.pi) + 0.1 * np.cos(day / 365 * 2 * np.pi)
    scale = rng.uniform(0.6, 1.4, (n_consumers, 1))
    demand = base[None, :] * scale * rng.uniform(0.8, 1.2, (n_consumers, n_hours))
    kwp = np.where(np.arange(n_consumers) % 2 == 0, rng.uniform(2.0, 6.0, n_consumers), 0.0)
    onsite = (sun * cloud)[None, :] * kwp[:, None] * 0.8
    battery = np.where(np.arange(n_consumers) % 4 == 0, 6.5, 0.0)
    return {"demand": demand, "onsite": onsite,
            "offsite": sun * cloud * n_consumers * 0.4,
            "battery_kwh": battery, "battery_kw": np.where(battery > 0, 3.0, 0.0),
            "community_kwh": n_consumers * 2.0, "community_kw": n_consumers * 0.5,
            "must_run": np.full(n_hours, n_consumers * 0.05)}
