"""Build the ``household`` rows of daily_shapes.csv from a published table.

Usage::

    python profiles/demand/build_household.py      # prints the CSV rows

Source of the appliance part: Building Research Institute (建築研究所),
「住宅に関する省エネルギー基準に準拠したエネルギー消費性能の算定方法」,
第十章 家電・調理, 付録A 表A.1 「家電による1時間当たりの消費電力量」
(kWh/h), columns for 3 residents (居住人数3人): 平日 (weekday), 休日外出
(holiday out) and 休日在宅 (holiday at home).  The 24 values of each column
are copied below as published.

What this script adds (gxsim's engineering estimates, stated here):

* many households do not keep one schedule: the appliance table of one
  household is smoothed with a [1/4, 1/2, 1/4] kernel over neighbouring hours
  (diversity of an aggregate of households);
* holidays are the mean of 休日外出 and 休日在宅;
* lighting (not in table A.1): 0.03 kWh/h at 6-7 h and 0.06 kWh/h at
  18-22 h (0.03 at 17 and 23 h), x1.2 in winter, x0.8 in summer;
* air conditioning in summer (Jul-Sep, a warm island): 0.06 kWh/h at night
  (0-5 h, 23 h), 0.10 in the afternoon 13-17 h (0.14 on holidays) and
  0.12 in the evening 18-22 h; heating in winter (Dec-Mar): 0.04 kWh/h at
  6-8 h and 18-22 h.  Temperature response beyond that is the consumer's
  ``temperature_sensitivity``.
"""

from __future__ import annotations

import numpy as np

# BRI table A.1, 3 residents: (weekday, holiday out, holiday at home) [kWh/h]
BRI_3P = np.array([
    (0.1806, 0.1806, 0.1806), (0.0711, 0.0711, 0.0711), (0.0788, 0.0788, 0.0788),
    (0.0788, 0.0788, 0.0788), (0.0711, 0.0711, 0.0711), (0.0788, 0.0788, 0.0788),
    (0.3525, 0.1685, 0.0788), (0.3662, 0.3287, 0.2767), (0.2032, 0.4595, 0.3696),
    (0.3953, 0.0788, 0.3265), (0.0711, 0.0711, 0.3128), (0.0788, 0.0788, 0.3150),
    (0.3698, 0.0788, 0.3698), (0.0711, 0.0711, 0.0711), (0.0788, 0.0788, 0.0788),
    (0.0788, 0.0788, 0.0788), (0.0711, 0.0711, 0.3956), (0.3019, 0.0788, 0.3689),
    (0.3972, 0.0788, 0.2978), (0.1932, 0.0711, 0.2049), (0.2102, 0.3129, 0.2183),
    (0.2837, 0.3322, 0.3458), (0.2620, 0.0952, 0.3002), (0.2756, 0.2703, 0.1806),
])


def smooth(x):
    """Diversity of many households: [1/4, 1/2, 1/4] over neighbouring hours."""
    return 0.25 * np.roll(x, 1) + 0.5 * x + 0.25 * np.roll(x, -1)


def lighting(season):
    light = np.zeros(24)
    light[[6, 7]] = 0.03
    light[18:23] = 0.06
    light[[17, 23]] = 0.03
    return light * {"winter": 1.2, "summer": 0.8, "mid": 1.0}[season]


def hvac(season, day_type):
    h = np.zeros(24)
    if season == "summer":
        h[0:6] = h[23] = 0.06
        h[13:18] = 0.14 if day_type == "holiday" else 0.10
        h[18:23] = 0.12
    elif season == "winter":
        h[6:9] = h[18:23] = 0.04
    return h


def rows():
    """(season, day_type, 24 values) of the household archetype [kWh/h]."""
    weekday = BRI_3P[:, 0]
    holiday = BRI_3P[:, 1:].mean(axis=1)
    out = []
    for season in ("mid", "summer", "winter"):
        for day_type, appl in (("workday", weekday), ("holiday", holiday)):
            out.append((season, day_type,
                        smooth(appl) + lighting(season) + hvac(season, day_type)))
    return out


if __name__ == "__main__":
    for season, day_type, v in rows():
        print(f"household,{season},{day_type}," + ",".join(f"{x:.4f}" for x in v))
