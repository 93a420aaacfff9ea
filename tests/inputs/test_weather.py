"""Tests for sim.inputs.weather: synthetic default year and EPW/TMY3/CSV readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from sim.errors import InputError
from sim.inputs.weather import (COLUMNS, load_weather, solar_position_hourly,
                         synthetic_year, year_index)

# golden island (Okinoerabu, the shipped demo scenario's site)
LAT, LON, ALT = 27.37, 128.57, 20.0
DATA = Path(__file__).resolve().parents[1] / "data"
PROFILES = Path(__file__).resolve().parents[2] / "profiles" / "weather"
TMY3 = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"


@pytest.fixture(scope="module")
def island():
    return load_weather(latitude=LAT, longitude=LON, altitude=ALT, year=2030)


# --- helpers ----------------------------------------------------------------

def write_epw(path, df, *, tz_hours=9.0, years=None, city="Test Island"):
    """Write ``df`` (interval-start labels, local standard time) as EPW.

    EPW hour h covers (h-1):00..h:00; ``years`` optionally overrides the
    year field per row (typical-year files mix years).
    """
    header = [
        f"LOCATION,{city},KGS,JPN,gxsim-test,999999,{LAT},{LON},{tz_hours},"
        f"{ALT}",
        "DESIGN CONDITIONS,0",
        "TYPICAL/EXTREME PERIODS,0",
        "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        "COMMENTS 1,written by tests/test_weather.py",
        "COMMENTS 2,",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    idx = df.index
    n = len(df)
    fields = pd.DataFrame({
        "year": idx.year if years is None else years,
        "month": idx.month, "day": idx.day, "hour": idx.hour + 1,
        "minute": 60,
        "flags": "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9?9?9",
        "temp_air": df["temp_air"].map("{:.1f}".format).to_numpy(),
        "temp_dew": "10.0", "rh": 70,
        "pressure": df["pressure"].map("{:.0f}".format).to_numpy(),
        "etr": 9999, "etrn": 9999, "ir": 9999,
        "ghi": df["ghi"].map("{:.0f}".format).to_numpy(),
        "dni": df["dni"].map("{:.0f}".format).to_numpy(),
        "dhi": df["dhi"].map("{:.0f}".format).to_numpy(),
        "i1": 999999, "i2": 999999, "i3": 999999, "lum": 9999, "wdir": 0,
        "wind_speed": df["wind_speed"].map("{:.1f}".format).to_numpy(),
        "sky": 5, "opaque": 5, "vis": 777.7, "ceil": 77777, "obs": 9,
        "codes": 999999999, "pw": 0, "aod": 0.0, "snow": 0, "days": 88,
        "albedo": 0.2, "rain": 0, "rain_q": 0}, index=range(n))
    assert fields.shape[1] == 35
    lines = fields.to_csv(header=False, index=False,
                          lineterminator="\n").splitlines()
    Path(path).write_text("\n".join(header + lines) + "\n")
    return path


# --- synthetic default year ---------------------------------------------------

def test_default_shape_index_attrs(island):
    assert list(island.columns) == list(COLUMNS)
    assert len(island) == 8760
    assert str(island.index.tz) == "Asia/Tokyo"
    assert island.index[0] == pd.Timestamp("2030-01-01 00:00", tz="Asia/Tokyo")
    assert island.index[-1] == pd.Timestamp("2030-12-31 23:00",
                                            tz="Asia/Tokyo")
    assert (np.diff(island.index.asi8) == np.diff(island.index.asi8)[0]).all()
    assert island.dtypes.eq("float64").all()
    assert np.isfinite(island.to_numpy()).all()
    a = island.attrs
    assert a["synthetic"] is True
    assert a["source"].startswith("synthetic:") and "seed 2030" in a["source"]
    assert a["wind_height"] == 10.0
    assert a["repairs"] == []


def test_default_is_default_keyword(island):
    other = load_weather("default", latitude=LAT, longitude=LON, altitude=ALT,
                         year=2030)
    pd.testing.assert_frame_equal(island, other)


def test_default_deterministic_and_seeded(island):
    again = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT,
                           year=2030)
    pd.testing.assert_frame_equal(island, again)
    other = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT,
                           year=2030, seed=7)
    assert not np.allclose(island["ghi"], other["ghi"])
    # monthly clear-sky index is matched exactly, so totals barely move
    assert other["ghi"].sum() == pytest.approx(island["ghi"].sum(), rel=0.01)


def test_default_leap_year():
    df = load_weather(latitude=LAT, longitude=LON, year=2032)
    assert len(df) == 8784
    assert ((df.index.month == 2) & (df.index.day == 29)).sum() == 24


def test_default_climate_plausible(island):
    ghi_annual = island["ghi"].sum() / 1000.0  # kWh/m2
    assert 1150 < ghi_annual < 1550
    monthly = island.groupby(island.index.month).mean()
    assert 14.0 < monthly.loc[1, "temp_air"] < 18.5
    assert 27.0 < monthly.loc[8, "temp_air"] < 31.0
    assert 4.5 < island["wind_speed"].mean() < 6.0
    assert monthly.loc[1, "wind_speed"] > monthly.loc[5, "wind_speed"]
    assert (island["wind_speed"] >= 0).all()
    np.testing.assert_allclose(island["pressure"],
                               pvlib.atmosphere.alt2pres(ALT))


# pvlib's own use of the deprecated DatetimeIndex.dayofyear under pandas 3
@pytest.mark.filterwarnings("ignore:.*dayofyear is deprecated")
def test_default_rainy_season_and_clear_summer(island):
    loc = pvlib.location.Location(LAT, LON, "Asia/Tokyo", ALT)
    cs = loc.get_clearsky(island.index + pd.Timedelta(minutes=30))
    m = island.index.month
    kc = island["ghi"].groupby(m).sum() / cs["ghi"].groupby(m).sum().to_numpy()
    assert kc[6] < kc[7] - 0.1  # tsuyu vs. post-rainy-season July
    assert kc[1] < kc[8]        # winter monsoon cloud


def test_default_depends_on_site():
    south = synthetic_year(latitude=27.0, longitude=128.0, year=2030)
    north = synthetic_year(latitude=34.0, longitude=129.5, year=2030)
    assert south["ghi"].sum() > north["ghi"].sum()


def test_default_irradiance_physics(island):
    pos = solar_position_hourly(island.index, LAT, LON, ALT)
    night = pos["sunlit_fraction"].to_numpy() == 0
    assert (island.loc[night, ["ghi", "dni", "dhi"]].to_numpy() == 0).all()
    day = ~night
    assert (island.loc[day, "ghi"] > 0).all()
    cosz = np.cos(np.radians(pos["zenith"].to_numpy()))
    closure = island["dhi"] + island["dni"] * np.maximum(cosz, 0)
    np.testing.assert_allclose(closure, island["ghi"], atol=1e-6)
    assert (island[["ghi", "dni", "dhi"]] >= 0).all().all()
    # irradiance centred on solar noon (~12:25 JST at 128.57 E)
    h = island.index.hour.to_numpy() + 0.5
    centroid = np.average(h, weights=island["ghi"])
    assert 12.0 < centroid < 12.9


def test_solar_position_sunrise_hour():
    idx = year_index(2030)[:48]
    pos = solar_position_hourly(idx, LAT, LON)
    f = pos["sunlit_fraction"].to_numpy()
    edge = (f > 0) & (f < 1)
    assert edge.sum() == 4  # a sunrise and a sunset hour on each day
    assert (pos.loc[edge, "apparent_zenith"] < 90).all()
    assert (pos.loc[f == 1, "apparent_zenith"] < 90).all()


def test_solar_position_hourly_reuses_given_positions():
    # the synthetic year evaluates SPA once for its clear sky and its hourly
    # sun: positions handed in give the same bits as computed inside
    from sim.inputs.weather.sunpos import sample_times

    idx = year_index(2030)[:72]
    times = sample_times(idx)
    assert len(times) == 2 * len(idx) + 1 and times[len(idx)] == idx[-1] + pd.Timedelta("1h")
    sp = pvlib.solarposition.get_solarposition(times, LAT, LON, ALT, pressure=95000.0,
                                               temperature=12.0)
    own = solar_position_hourly(idx, LAT, LON, ALT, pressure=95000.0)
    given = solar_position_hourly(idx, LAT, LON, ALT, pressure=95000.0, positions=sp)
    pd.testing.assert_frame_equal(given, own, check_exact=True)
    with pytest.raises(ValueError, match="145 rows"):
        solar_position_hourly(idx[:-1], LAT, LON, ALT, positions=sp)


# --- TMY3 ---------------------------------------------------------------------

def _tmy3_raw():
    data, meta = pvlib.iotools.read_tmy3(TMY3, map_variables=True)
    return data, meta


def test_tmy3_file_local_time_and_relabel():
    raw, _ = _tmy3_raw()
    df = load_weather(TMY3, latitude=36.1, longitude=-79.95, year=2030,
                      timezone="Etc/GMT+5")  # the file's own UTC-5
    assert len(df) == 8760 and df.attrs["synthetic"] is False
    assert df.attrs["wind_height"] == 10.0
    # first record "01/01 01:00" covers 00:00-01:00 -> labelled 00:00
    first = df.iloc[0]
    assert first["ghi"] == raw["ghi"].iloc[0]
    assert first["temp_air"] == raw["temp_air"].iloc[0]
    assert first["pressure"] == raw["pressure"].iloc[0] * 100.0  # mbar -> Pa
    np.testing.assert_array_equal(df["ghi"].to_numpy(), raw["ghi"].to_numpy())
    rep = " | ".join(df.attrs["repairs"])
    assert "hour-ending" in rep and "onto 2030" in rep and "mbar" in rep
    # interval-start labels: irradiance centred near solar noon (~12:20 LST)
    h = df.index.hour.to_numpy() + 0.5
    assert 11.9 < np.average(h, weights=df["ghi"]) < 12.8


def test_tmy3_converted_to_tokyo_wraps_explicitly():
    raw, _ = _tmy3_raw()
    df = load_weather(TMY3, latitude=36.1, longitude=-79.95, year=2030)
    assert str(df.index.tz) == "Asia/Tokyo" and len(df) == 8760
    # 2030-01-01 00:00 UTC-5 == 14:00 JST: the first record lands there
    assert df.loc[pd.Timestamp("2030-01-01 14:00", tz="Asia/Tokyo"),
                  "ghi"] == raw["ghi"].iloc[0]
    # the first 14 JST hours come from the end of the typical year
    np.testing.assert_array_equal(df["ghi"].to_numpy()[:14],
                                  raw["ghi"].to_numpy()[-14:])
    assert any("first 14 hour(s)" in r for r in df.attrs["repairs"])


def test_tmy3_onto_leap_year_fills_feb29():
    raw, _ = _tmy3_raw()
    df = load_weather(TMY3, latitude=36.1, longitude=-79.95, year=2032,
                      timezone="Etc/GMT+5")
    assert len(df) == 8784
    feb28 = df[(df.index.month == 2) & (df.index.day == 28)]
    feb29 = df[(df.index.month == 2) & (df.index.day == 29)]
    np.testing.assert_array_equal(feb28.to_numpy(), feb29.to_numpy())
    assert any("29 Feb" in r for r in df.attrs["repairs"])
    # nothing else moved: 1 March 00:00 is the raw 1 March first record
    # (the raw index labels hour ends: its "Mar 1 00:00" is 28 Feb 23-24 h)
    i = int(np.flatnonzero(raw["Date (MM/DD/YYYY)"].str.startswith("03/01")
                           )[0])
    assert df.loc[pd.Timestamp("2032-03-01 00:00", tz="Etc/GMT+5"),
                  "temp_air"] == raw["temp_air"].iloc[i]


# --- EPW ------------------------------------------------------------------------

def test_epw_roundtrip(tmp_path, island):
    path = write_epw(tmp_path / "island.epw", island)
    df = load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert len(df) == 8760 and str(df.index.tz) == "Asia/Tokyo"
    pd.testing.assert_index_equal(df.index, island.index)
    np.testing.assert_allclose(df["ghi"], island["ghi"], atol=0.51)
    np.testing.assert_allclose(df["temp_air"], island["temp_air"], atol=0.051)
    np.testing.assert_allclose(df["wind_speed"], island["wind_speed"],
                               atol=0.051)
    assert df.attrs["synthetic"] is False
    assert df.attrs["source"].startswith("EPW island.epw")
    assert any("hour-ending" in r for r in df.attrs["repairs"])
    assert not any("onto" in r for r in df.attrs["repairs"])


def test_epw_typical_year_onto_leap_year(tmp_path, island):
    years = np.where(island.index.month % 2 == 0, 1997, 2005)
    path = write_epw(tmp_path / "tmy.epw", island, years=years)
    df = load_weather(path, latitude=LAT, longitude=LON, year=2028)
    assert len(df) == 8784
    rep = " | ".join(df.attrs["repairs"])
    assert "1997, 2005 onto 2028" in rep and "29 Feb" in rep
    d28 = df[(df.index.month == 2) & (df.index.day == 28)]
    d29 = df[(df.index.month == 2) & (df.index.day == 29)]
    np.testing.assert_array_equal(d28.to_numpy(), d29.to_numpy())
    np.testing.assert_allclose(df.loc["2028-07"]["ghi"].to_numpy(),
                               island.loc["2030-07"]["ghi"].to_numpy(),
                               atol=0.51)


def test_epw_with_feb29_onto_common_year_drops_explicitly(tmp_path):
    leap = synthetic_year(latitude=LAT, longitude=LON, year=2032)
    path = write_epw(tmp_path / "leap.epw", leap)
    df = load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert len(df) == 8760
    assert any("dropped" in r and "29 Feb" in r for r in df.attrs["repairs"])


def test_epw_missing_value_code_is_an_error(tmp_path, island):
    bad = island.copy()
    bad.iloc[100, bad.columns.get_loc("ghi")] = 9999.0  # EPW missing code
    path = write_epw(tmp_path / "bad.epw", bad)
    with pytest.raises(InputError) as e:
        load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert e.value.field == "ghi" and e.value.source == str(path)
    assert "\n" not in str(e.value)


def test_tiny_epw_incomplete_year_is_an_error():
    path = DATA / "weather_tiny_2days.epw"
    with pytest.raises(InputError, match="missing") as e:
        load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert e.value.source == str(path) and e.value.field == "time"


# --- plain CSV ------------------------------------------------------------------

def _to_csv(df, path, **kw):
    out = df.copy()
    out.index = out.index.map(lambda t: t.isoformat())
    out.index.name = "time"
    out.to_csv(path, **kw)
    return path


def test_plain_csv_roundtrip(tmp_path, island):
    path = _to_csv(island, tmp_path / "w.csv")
    df = load_weather(path, latitude=LAT, longitude=LON, year=2030)
    pd.testing.assert_frame_equal(df, island, check_exact=False, rtol=1e-12,
                                  atol=1e-9, check_freq=False)
    assert df.attrs["repairs"] == [] and df.attrs["source"] == "CSV w.csv"


def test_plain_csv_same_instants_in_utc(tmp_path, island):
    path = _to_csv(island.tz_convert("UTC"), tmp_path / "utc.csv")
    df = load_weather(path, latitude=LAT, longitude=LON, year=2030)
    # the file holds exactly the JST calendar year: nothing to repair
    pd.testing.assert_index_equal(df.index, island.index)
    np.testing.assert_allclose(df["ghi"], island["ghi"])
    assert df.attrs["repairs"] == []


def test_plain_csv_utc_year_wrapped_explicitly(tmp_path):
    utc_year = synthetic_year(latitude=LAT, longitude=LON, year=2030,
                              timezone="UTC")
    path = _to_csv(utc_year, tmp_path / "utc_year.csv")
    df = load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert str(df.index.tz) == "Asia/Tokyo" and len(df) == 8760
    # same instants where both cover them; the first 9 JST hours
    # (31 Dec 15-24 h UTC) come from the end of the file's year
    np.testing.assert_allclose(df["ghi"].to_numpy()[9:],
                               utc_year["ghi"].to_numpy()[:-9])
    np.testing.assert_allclose(df["ghi"].to_numpy()[:9],
                               utc_year["ghi"].to_numpy()[-9:])
    assert any("first 9 hour(s)" in r for r in df.attrs["repairs"])


def test_plain_csv_hour_ending_labels(tmp_path, island):
    shifted = island.copy()
    shifted.index = shifted.index + pd.Timedelta(hours=1)
    path = _to_csv(shifted, tmp_path / "end.csv")
    # read as interval starts the data are an hour late: the clock check
    # (issue 11) measures the shift from solar noon and refuses the file
    with pytest.raises(InputError, match=r"peaks 1\.0 h after solar noon"):
        load_weather(path, latitude=LAT, longitude=LON, year=2030)
    from sim.inputs.weather import read_plain_csv
    ok = read_plain_csv(path, year=2030, label="end")
    pd.testing.assert_frame_equal(ok, island, check_exact=False, rtol=1e-12,
                                  atol=1e-9, check_freq=False)
    assert ok.attrs["repairs"] == [
        "relabelled hour-ending records to interval start"]


def test_plain_csv_naive_times_recorded(tmp_path, island):
    naive = island.tz_localize(None)
    path = _to_csv(naive, tmp_path / "naive.csv")
    df = load_weather(path, latitude=LAT, longitude=LON, year=2030)
    np.testing.assert_allclose(df["ghi"], island["ghi"])
    assert any("naive" in r for r in df.attrs["repairs"])


def test_shipped_profile_matches_generator():
    path = PROFILES / "default_island_2030.csv"
    df = load_weather(path, latitude=LAT, longitude=LON, altitude=ALT,
                      year=2030)
    ref = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2030)
    for col in COLUMNS:
        np.testing.assert_allclose(df[col], ref[col], atol=0.051, rtol=1e-6)


@pytest.mark.parametrize("col", ["dni", "pressure"])
def test_plain_csv_missing_column(tmp_path, island, col):
    path = _to_csv(island.drop(columns=col), tmp_path / "w.csv")
    with pytest.raises(InputError) as e:
        load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert e.value.field == col and e.value.source == str(path)
    assert col in str(e.value)


def test_plain_csv_nan_is_an_error(tmp_path, island):
    bad = island.copy()
    bad.iloc[5, 3] = np.nan
    path = _to_csv(bad, tmp_path / "w.csv")
    with pytest.raises(InputError, match="missing") as e:
        load_weather(path, latitude=LAT, longitude=LON, year=2030)
    assert e.value.field == "temp_air"


def test_plain_csv_gap_is_an_error(tmp_path, island):
    path = _to_csv(island.drop(island.index[1000]), tmp_path / "w.csv")
    with pytest.raises(InputError, match="1 hour"):
        load_weather(path, latitude=LAT, longitude=LON, year=2030)


def test_plain_csv_duplicate_is_an_error(tmp_path, island):
    dup = pd.concat([island, island.iloc[[10]]])
    path = _to_csv(dup, tmp_path / "w.csv")
    with pytest.raises(InputError, match="duplicate"):
        load_weather(path, latitude=LAT, longitude=LON, year=2030)


# --- bad arguments ---------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"year": "2030"}, "year"),
    ({"year": 2030, "timezone": "Mars/Olympus"}, "timezone"),
    ({"year": 2030, "latitude": 95.0}, "latitude"),
    ({"year": 2030, "wind_height": -3}, "wind_height"),
])
def test_bad_arguments(kwargs, field):
    args = {"latitude": LAT, "longitude": LON, **kwargs}
    with pytest.raises(InputError) as e:
        load_weather(**args)
    assert e.value.field == field


def test_bad_source(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_weather(tmp_path / "nope.epw", latitude=LAT, longitude=LON,
                     year=2030)
    p = tmp_path / "w.dat"
    p.write_text("x")
    with pytest.raises(InputError, match="expected .epw, .tm2, .csv"):
        load_weather(p, latitude=LAT, longitude=LON, year=2030)
    p = tmp_path / "w.txt"  # .txt is read as METPV, and refused as such
    p.write_text("x")
    with pytest.raises(InputError, match="not in the METPV layout"):
        load_weather(p, latitude=LAT, longitude=LON, year=2030)


# --- calibration of the synthetic year against real years (issue 11) ---------

#: statistic -> the real year it is compared with.  Shape statistics against
#: Greensboro (the TMY3 the issue measured); the two climate levels (cloudiness,
#: mean wind) against Sand Point, a windy maritime island like the demo's.
CALIBRATION = {"kc_below_0.2": "723170TYA.CSV", "kc_mean": "703165TY.csv",
               "wind_mean": "703165TY.csv", "weibull_k": "723170TYA.CSV",
               "wind_autocorr": "723170TYA.CSV", "calm_share": "723170TYA.CSV"}


def test_synthetic_statistics_near_real():
    from sim.inputs.weather.stats import weather_statistics

    data = Path(pvlib.__file__).parent / "data"
    real = {}
    for name, lat, lon, alt, zone in [("723170TYA.CSV", 36.1, -79.95, 273, "Etc/GMT+5"),
                                      ("703165TY.csv", 55.317, -160.517, 7, "Etc/GMT+9")]:
        w = load_weather(data / name, latitude=lat, longitude=lon, altitude=alt,
                         year=2023, timezone=zone)
        real[name] = weather_statistics(w, latitude=lat, longitude=lon, altitude=alt)
    syn = weather_statistics(synthetic_year(latitude=LAT, longitude=LON, altitude=ALT,
                                            year=2023),
                             latitude=LAT, longitude=LON, altitude=ALT)
    print(f"\n{'statistic':<14}{'synthetic':>10}{'723170TYA':>11}{'703165TY':>10}  compared with")
    for key in syn:
        ref = CALIBRATION.get(key, "-")
        print(f"{key:<14}{syn[key]:>10.3f}{real['723170TYA.CSV'][key]:>11.3f}"
              f"{real['703165TY.csv'][key]:>10.3f}  {ref}")
    for key, ref in CALIBRATION.items():
        assert syn[key] == pytest.approx(real[ref][key], rel=0.25), key


def test_synthetic_ar1_is_scipys_filter_to_the_bit():
    # the AR(1) recursion is written out (importing scipy.signal cost 0.5 s of
    # every start-up); it must stay the filter it replaced
    from scipy import signal

    from sim.inputs.weather import synthetic

    for phi in (0.0, 0.5, 0.97):
        got = synthetic._ar1(np.random.default_rng(4), 8760, phi)
        rng = np.random.default_rng(4)
        eps = rng.standard_normal(8760) * np.sqrt(1.0 - phi * phi)
        eps[0] = rng.standard_normal()
        np.testing.assert_array_equal(got, signal.lfilter([1.0], [1.0, -phi], eps))
