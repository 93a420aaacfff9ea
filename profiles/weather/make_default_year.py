"""Write the synthetic default weather year of the demo island as plain CSV.

Usage::

    python profiles/weather/make_default_year.py [--year 2030] [--out FILE]

The CSV is the output of :func:`sim.inputs.weather.synthetic_year` for the shipped
demo site (Okinoerabu, 27.37 N 128.57 E, 20 m), rounded for size, in the plain
CSV format read by :func:`sim.inputs.weather.load_weather`.  It exists for people who
want to look at the default year without Python and as a regression reference
(tests/test_weather.py checks the generator still reproduces it).  The
library itself always computes the default year on the fly for the requested
site and year; it does not read this file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.inputs.weather import synthetic_year

SITE = {"latitude": 27.37, "longitude": 128.57, "altitude": 20.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--year", type=int, default=2030)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    out = args.out or Path(__file__).with_name(
        f"default_island_{args.year}.csv")
    df = synthetic_year(**SITE, year=args.year)
    df = df.round({"ghi": 2, "dni": 2, "dhi": 2, "temp_air": 2,
                   "wind_speed": 2, "pressure": 1})
    df.index = df.index.map(lambda t: t.isoformat())
    df.index.name = "time"
    df.to_csv(out)
    print(f"wrote {out} ({len(df)} hours)")


if __name__ == "__main__":
    main()
