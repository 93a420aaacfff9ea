"""Rebuild ``projections.csv`` from the few published figures listed below.

Run ``python profiles/population/build_projections.py``. Every row of the
output is an ESTIMATE made by the method in README.md, not an IPSS figure:
the IPSS municipal tables (日本の地域別将来推計人口, 令和5年推計) were not
available offline when this file was written. Replace the rows with the IPSS
municipal values (or give your own series in the scenario's ``[future]``
section) for a real study.
"""

from __future__ import annotations

import csv
from pathlib import Path

YEARS = (2020, 2025, 2030, 2035, 2040, 2045, 2050)

# National figures (docs/rules.md: IPSS 2023 national population projection,
# medium variant, and IPSS 2024 national household projection).
NAT_POP_2020 = 126.146        # million, 2020 census
NAT_POP_CHANGE_2050 = -0.170  # 2020 -> 2050
NAT_HOUSEHOLDS = {2020: 55.70, 2030: 57.73, 2050: 52.61}  # million
NAT_SIZE_2020 = 2.21          # persons per general household, 2020

# Prefectural figures, IPSS 2023 regional projection as reported by NHK
# (2024-01-08) and Ryukyu Shimpo (Okinawa 65+ count): change 2020->2050 and
# share aged 65+ in 2020 and 2050. 2020 shares marked "recalled" are the
# 2020 census values as remembered, not re-checked against e-Stat.
PREFECTURES = {
    "鹿児島県": {"change_2050": -0.263, "s65_2020": 0.325, "s65_2050": 0.412,
               "note": "IPSS 2023 via NHK 2024-01-08; 2020 share 32.5 % recalled"},
    "長崎県": {"change_2050": -0.338, "s65_2020": 0.330, "s65_2050": 0.434,
             "note": "IPSS 2023 via NHK 2024-01-08; 2020 share 33.0 % recalled"},
    "沖縄県": {"change_2050": -0.052, "s65_2020": 0.226, "s65_2050": 0.336,
             "note": "IPSS 2023 via NHK 2024-01-08; 65+ 331k->468k (Ryukyu Shimpo) "
                     "on 1.467 M x 0.948 gives 33.6 %"},
}

# 2020 base population of each municipality. Iki, Miyakojima: 2020 census
# (docs/rules.md). Wadomari, China: approximate (recalled, +-3 %), to be checked
# against the 2020 census (e-Stat); only the index matters to gxsim.
MUNICIPALITIES = [
    ("和泊町", "鹿児島県", 6400, "approx. 2020 census (recalled, +-3 %)"),
    ("知名町", "鹿児島県", 5800, "approx. 2020 census (recalled, +-3 %)"),
    ("壱岐市", "長崎県", 24948, "2020 census"),
    ("宮古島市", "沖縄県", 52962, "2020 census"),
]


def _lerp(points: dict[int, float], year: int) -> float:
    xs = sorted(points)
    for a, b in zip(xs, xs[1:]):
        if a <= year <= b:
            return points[a] + (points[b] - points[a]) * (year - a) / (b - a)
    raise ValueError(year)


def household_size_index() -> dict[int, float]:
    """National persons per household relative to 2020 (population / households)."""
    pop = {2020: 1.0, 2050: 1.0 + NAT_POP_CHANGE_2050}
    pop[2030] = _lerp(pop, 2030)
    known = {y: (pop[y] / NAT_HOUSEHOLDS[y]) / (1.0 / NAT_HOUSEHOLDS[2020])
             for y in (2020, 2030, 2050)}
    return {y: _lerp(known, y) for y in YEARS}


def rows() -> list[dict]:
    size = household_size_index()
    out = []
    for name, pref, base, base_note in MUNICIPALITIES:
        p = PREFECTURES[pref]
        for y in YEARS:
            t = (y - 2020) / 30
            index = 1.0 + p["change_2050"] * t
            pop = base * index
            households = pop / (NAT_SIZE_2020 * size[y])
            s65 = p["s65_2020"] + (p["s65_2050"] - p["s65_2020"]) * t
            out.append({
                "municipality": name, "prefecture": pref, "year": y,
                "population": round(pop), "households": round(households),
                "share_65plus": round(s65, 4),
                "status": "base" if y == 2020 else "estimate",
                "method": ("2020 base: " + base_note + "; households at the national "
                           "average size 2.21; 65+ share = prefectural 2020 value (proxy)") if y == 2020 else
                          ("prefectural IPSS 2023 change 2020-2050 interpolated linearly; "
                           "households = population / (2.21 x national size index); "
                           "65+ share = prefectural path"),
                "source": p["note"],
            })
    return out


def main() -> None:
    path = Path(__file__).with_name("projections.csv")
    data = rows()
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("# ESTIMATES, not IPSS figures: see README.md for the method and sources\n")
        w = csv.DictWriter(f, fieldnames=list(data[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(data)
    print(f"wrote {len(data)} rows to {path}")


if __name__ == "__main__":
    main()
