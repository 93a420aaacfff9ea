"""A corpus of faulty meter data made from the shipped example (examples/island_claim/).

Each fault is a function ``fault(base, folder) -> Case``: it copies the
example's 30-minute wide export (``base``, read once), breaks it the way real
exports break, writes the file(s) into ``folder`` and says which verdict the
example's honest claim must get on it (``expect``: ``pass``, ``fail``,
``inconclusive`` or ``input_error``). ``claim`` holds changes to the claim
that the fault needs (a stated date format, an encoding, a consumer left
out); ``fixed`` optionally gives claim changes that make the data acceptable
again, with the verdict expected then.

Run as a script to print each fault's verdicts:
``python tests/studies/faults.py``.
"""

from __future__ import annotations

import copy
import gzip
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "island_claim"
YEAR = 2023
PV = ["G01-rooftop_pv", "G02-town_hall_pv", "G03-school_pv", "G04-solar_farm",
      "G05-old_fit_pv"]
PLANTS = PV + ["G06-wind", "G07-biomass", "G08-waste_power"]
BIGGEST = "C02-households"      # the largest consumer meter of the example


@dataclass
class Case:
    """One fault: files to read, claim changes, the verdict the honest claim must get."""

    name: str
    files: list[Path]
    expect: str
    claim: dict = field(default_factory=dict)      # claim changes the fault comes with
    fixed: dict | None = None                      # claim changes that make it acceptable
    fixed_expect: str | None = None
    words: tuple = ()                              # words the reasons / error must contain


# --------------------------------------------------------------------------
# the base data and claims
# --------------------------------------------------------------------------
def load_base() -> pd.DataFrame:
    """The example's meter data: 30-minute kWh, index = naive interval starts."""
    raw = pd.read_csv(EXAMPLE / "meters_2023_30min.csv.gz", dtype={"timestamp": str})
    raw = raw.drop_duplicates()            # the example's one repeated row
    assert len(raw) == 17520 and raw["timestamp"].iloc[0] == "2023/01/01 00:30"
    idx = pd.date_range(f"{YEAR}-01-01", periods=len(raw), freq="30min")
    return raw.drop(columns="timestamp").set_index(idx).astype(float)


def load_claims() -> dict:
    """The example's claims as dicts: honest (passes) and inflated (fails)."""
    return {name: tomllib.loads((EXAMPLE / f"{name}.toml").read_text(encoding="utf-8"))
            for name in ("claim", "claim_inflated")}


def stamps(index: pd.DatetimeIndex, minutes: int = 30, fmt: str = "%Y/%m/%d %H:%M"
           ) -> np.ndarray:
    """Interval-END labels with "24:00", as the example writes them."""
    end = index + pd.Timedelta(minutes=minutes)
    ts = end.strftime(fmt).to_numpy(dtype=object)
    mid = (end.hour == 0) & (end.minute == 0)
    ts[mid] = (end[mid] - pd.Timedelta(days=1)).strftime(
        fmt.replace("%H:%M", "24:00")).to_numpy(dtype=object)
    return ts


def export(df: pd.DataFrame, path: Path, *, minutes: int = 30, ts=None,
           encoding: str = "utf-8", ts_name: str = "timestamp") -> Path:
    """Write a wide export like the example's (3 decimals, END labels)."""
    out = df.copy()
    out.index = pd.Index(stamps(df.index, minutes) if ts is None else ts, name=ts_name)
    out.to_csv(path, float_format="%.3f", encoding=encoding)
    return path


def _text(df: pd.DataFrame) -> pd.DataFrame:
    return df.map(lambda v: "" if np.isnan(v) else f"{v:.3f}").astype(object)


def _cells(df: pd.DataFrame, n: int, seed: int, cols=None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cols = list(df.columns) if cols is None else cols
    rows = rng.choice(np.arange(1000, len(df) - 1000), n, replace=False)
    return rows, np.array([df.columns.get_loc(c) for c in rng.choice(cols, n)])


# --------------------------------------------------------------------------
# the faults of issue 13 (each turned an inflated claim into a PASS before)
# --------------------------------------------------------------------------
def filled_gaps(base, d):
    """PV hours deleted in gaps of up to 6 h (~47 % of their half-hours), fill on."""
    df = base.copy()
    rng = np.random.default_rng(1)
    for c in PV:
        col = df[c].to_numpy().copy()
        pos = 0
        while pos < len(col):
            pos += int(rng.integers(2, 14))
            n = int(rng.integers(2, 13))
            col[pos:pos + n] = np.nan
            pos += n
        df[c] = col
    return Case("filled_gaps", [export(df, d / "m.csv")], "inconclusive",
                words=("filled hours count as missing",))


def mixed_interval(base, d):
    """Hourly rows January-September, 30-minute rows October-December."""
    cut = base.index.get_loc(pd.Timestamp(f"{YEAR}-10-01"))
    head = base.iloc[:cut]
    hourly = head.groupby(np.arange(len(head)) // 2).sum(min_count=2)
    hourly.index = head.index[::2]
    ts = np.r_[stamps(hourly.index, 60), stamps(base.index[cut:], 30)]
    df = pd.concat([hourly, base.iloc[cut:]])
    return Case("mixed_interval", [export(df, d / "m.csv", ts=ts)], "input_error",
                claim={"meter_data": {"interval": "auto"}},
                words=("interval changes", "60 min", "30 min"))


def shifted_plants(base, d):
    """Plant meters' time stamps 3 h late."""
    df = base.copy()
    df[PLANTS] = df[PLANTS].shift(6)
    return Case("shifted_plants", [export(df, d / "m.csv")], "inconclusive",
                words=("clock is shifted", "+3.0 h"))


def utc_file(base, d):
    """The whole file written in UTC without an offset (9 h early in Japan time)."""
    ts = stamps(base.index - pd.Timedelta(hours=9))
    return Case("utc_file", [export(base, d / "m.csv", ts=ts)], "inconclusive",
                words=("clock is shifted", "-9.0 h"))


def shifted_consumers(base, d):
    """Consumer meters' time stamps 2 h early (their own export, a wrong zone)."""
    df = base.copy()
    cons = [c for c in df.columns if c.startswith("C")]
    df[cons] = df[cons].shift(-4)
    return Case("shifted_consumers", [export(df, d / "m.csv")], "inconclusive",
                words=("consumer meters' clock is shifted -",))


def scaled_pv(base, d):
    """All PV meters x 1.15 (a wrong meter multiplier), still under capacity."""
    df = base.copy()
    df[PV] = df[PV] * 1.15
    return Case("scaled_pv", [export(df, d / "m.csv")], "inconclusive",
                words=("not metered evidence", "above plausible output"))


def ddmm_dates(base, d):
    """Time stamps written DD/MM/YYYY."""
    ts = stamps(base.index, fmt="%d/%m/%Y %H:%M")
    return Case("ddmm_dates", [export(base, d / "m.csv", ts=ts)], "input_error",
                fixed={"meter_data": {"date_format": "%d/%m/%Y %H:%M"}},
                fixed_expect="pass", words=("ambiguous date format", "date_format"))


def biggest_consumer_left_out(base, d):
    """The claim leaves out its biggest consumer; its meter is in the data."""
    path = export(base, d / "m.csv")
    return Case("biggest_consumer_left_out", [path], "inconclusive",
                claim={"_drop_consumer": BIGGEST},
                fixed={"excluded_meters": {BIGGEST: "a test: said to be outside the area"}},
                fixed_expect="fail", words=(BIGGEST, "問35", "civil demand is"))


# --------------------------------------------------------------------------
# everyday faults
# --------------------------------------------------------------------------
def gaps(base, d):
    """10 % of hours blank in every meter, no filling."""
    df = base.copy()
    rng = np.random.default_rng(2)
    hours = rng.choice(len(df) // 2, len(df) // 20, replace=False)
    df.iloc[np.r_[2 * hours, 2 * hours + 1]] = np.nan
    return Case("gaps", [export(df, d / "m.csv")], "inconclusive",
                claim={"meter_data": {"fill": "none"}}, words=("no metered value",))


def duplicates(base, d):
    """Ten rows repeated, five with different values (conflicts excluded)."""
    df = base.copy()
    rows = np.arange(3000, 13000, 1000)
    extra = df.iloc[rows].copy()
    extra.iloc[5:] = extra.iloc[5:] * 1.5
    df = pd.concat([df, extra]).sort_index(kind="stable")
    return Case("duplicates", [export(df, d / "m.csv")], "pass")


def kw_for_kwh(base, d):
    """Plant meters exported as mean kW per half-hour (2 x the kWh)."""
    df = base.copy()
    df[PLANTS] = df[PLANTS] * 2
    return Case("kw_for_kwh", [export(df, d / "m.csv")], "inconclusive",
                words=("look like kW",))


def wh(base, d):
    """Every value in Wh."""
    return Case("wh", [export(base * 1000, d / "m.csv")], "inconclusive")


def negative(base, d):
    """Twenty negative cells (excluded, listed; within the limits)."""
    df = base.copy()
    r, c = _cells(df, 20, 3)
    vals = df.to_numpy(copy=True)
    vals[r, c] = -np.abs(vals[r, c]) - 1
    return Case("negative", [export(pd.DataFrame(vals, df.index, df.columns),
                                    d / "m.csv")], "pass")


def nan_cells(base, d):
    """Twenty cells written "NaN"."""
    df = _text(base)
    r, c = _cells(base, 20, 4)
    for i, j in zip(r, c):
        df.iat[i, j] = "NaN"
    return Case("nan", [export(df, d / "m.csv")], "pass")


def text_cells(base, d):
    """Twenty cells of text ("ERR", "1,234", "---")."""
    df = _text(base)
    r, c = _cells(base, 20, 5)
    for k, (i, j) in enumerate(zip(r, c)):
        df.iat[i, j] = ("ERR", "1,234", "---")[k % 3]
    return Case("text", [export(df, d / "m.csv")], "pass")


def overflow(base, d):
    """A cell of 1e400 (beyond float range)."""
    df = _text(base)
    df.iat[5000, 3] = "1e400"
    return Case("overflow", [export(df, d / "m.csv")], "pass")


def missing_meter(base, d):
    """The solar farm's column is missing."""
    return Case("missing_meter", [export(base.drop(columns="G04-solar_farm"), d / "m.csv")],
                "inconclusive", words=("no usable data", "G04-solar_farm"))


def extra_meter(base, d):
    """An extra consumer meter in the data that the claim does not name."""
    df = base.copy()
    df["C13-fish_plant"] = df["C12-agri_processing"] * 0.5
    return Case("extra_meter", [export(df, d / "m.csv")], "inconclusive",
                fixed={"excluded_meters": {"C13-fish_plant": "on the neighbouring island"}},
                fixed_expect="pass", words=("C13-fish_plant", "問35"))


def leap_day(base, d):
    """Rows for 29 February in a year without one (listed as bad time stamps)."""
    feb = base.loc["2023-02-28"].copy()
    ts = np.r_[stamps(base.index), [s.replace("2023/03/01", "2023/02/29").replace(
        "2023/02/28", "2023/02/29") for s in stamps(feb.index)]]
    df = pd.concat([base, feb])
    return Case("leap_day", [export(df, d / "m.csv", ts=ts)], "pass")


def shift_jis(base, d):
    """A Shift-JIS export with a Japanese header, read as UTF-8."""
    path = export(base, d / "m.csv", encoding="cp932", ts_name="計測日時")
    return Case("shift_jis", [path], "input_error",
                fixed={"meter_data": {"encoding": "cp932"}}, fixed_expect="pass",
                words=("cannot read",))


def gzip_named_csv(base, d):
    """Gzip bytes in a file named .csv."""
    path = export(base, d / "m.csv")
    data = gzip.compress(path.read_bytes(), mtime=0)
    path.write_bytes(data)
    return Case("gzip_named_csv", [path], "input_error", words=("gz-compressed",))


def bom(base, d):
    """A UTF-8 byte-order mark before the header."""
    return Case("bom", [export(base, d / "m.csv", encoding="utf-8-sig")], "pass")


def unknown_encoding(base, d):
    """The claim names an encoding that does not exist."""
    return Case("unknown_encoding", [export(base, d / "m.csv")], "input_error",
                claim={"meter_data": {"encoding": "shift-jiss"}},
                words=("unknown text encoding",))


FAULTS = [filled_gaps, mixed_interval, shifted_plants, shifted_consumers, utc_file, scaled_pv, ddmm_dates,
          biggest_consumer_left_out, gaps, duplicates, kw_for_kwh, wh, negative, nan_cells,
          text_cells, overflow, missing_meter, extra_meter, leap_day, shift_jis,
          gzip_named_csv, bom, unknown_encoding]


# --------------------------------------------------------------------------
# claims
# --------------------------------------------------------------------------
def apply(claim: dict, changes: dict | None, files: list[Path]) -> dict:
    """The claim with a fault's changes and the fault's files (absolute paths)."""
    out = copy.deepcopy(claim)
    out["meter_data"]["files"] = [str(p) for p in files]
    for key, val in (changes or {}).items():
        if key == "_drop_consumer":
            out["consumers"] = [c for c in out["consumers"] if c["meter"] != val]
        elif isinstance(val, dict):
            out.setdefault(key, {}).update(val)
        else:
            out[key] = val
    return out


def with_figures(claim: dict, figures: dict) -> dict:
    """The claim declaring other figures."""
    out = copy.deepcopy(claim)
    out["claimed"] = dict(figures)
    return out


def inflated_by(claim: dict, share: float) -> dict:
    """Renewable supply and the hourly-matched share declared ``share`` too high."""
    c = dict(claim["claimed"])
    c["renewable_supply_kwh"] = round(c["renewable_supply_kwh"] * (1 + share), -3)
    if "hourly_matched_share" in c:
        c["hourly_matched_share"] = round(c["hourly_matched_share"] * (1 + share), 3)
    return with_figures(claim, c)


def claimed_from(table: pd.DataFrame, figures: dict) -> dict:
    """What the data say, as a claim's figures (what a town would declare from them)."""
    out = {k: float(row["recomputed"]) for k, row in table.iterrows()
           if np.isfinite(row["recomputed"])}
    out["balance"] = bool(figures.get("balance_hourly_ok", False))
    return out


if __name__ == "__main__":  # pragma: no cover - a look at the corpus by hand
    import tempfile

    from sim.errors import InputError
    from sim.inputs.claim import claim_from_dict
    from sim.studies.verify import verify

    base, claims = load_base(), load_claims()
    with tempfile.TemporaryDirectory() as tmp:
        for fault in FAULTS:
            d = Path(tmp) / fault.__name__
            d.mkdir()
            case = fault(base, d)
            try:
                v = verify(claim_from_dict(apply(claims["claim"], case.claim, case.files),
                                           source=d / "claim.toml"))
                print(f"{case.name:28s} {v.verdict:13s} expect {case.expect}: "
                      f"{v.reasons[0][:150]}")
            except InputError as e:
                print(f"{case.name:28s} {'input_error':13s} expect {case.expect}: {e}")
