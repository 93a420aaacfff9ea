"""Real weather files end to end, site and clock checks, JMA and METPV readers.

Issue 11: every weather file pvlib ships runs through ``gxsim run`` at its own
site; files far from the site or with a shifted clock are refused in one line
(exit 2, nothing written).  The JMA and METPV files here are MADE UP (see
tests/weather_samples.py): values from the synthetic year in the published
layouts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from weather_samples import write_jma_csv, write_metpv

from sim.cli import main
from sim.errors import InputError
from sim.inputs.weather import load_weather, synthetic_year
from sim.inputs.weather.checks import clock_shift_hours, distance_km

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
LAT, LON, ALT = 27.37, 128.57, 20.0

#: every weather file in pvlib/data, with its header site and a fixed zone
PVLIB_FILES = [
    ("723170TYA.CSV", 36.1, -79.95, 273.0, "Etc/GMT+5"),   # TMY3 Greensboro NC
    ("703165TY.csv", 55.317, -160.517, 7.0, "Etc/GMT+9"),  # TMY3 Sand Point AK
    ("12839.tm2", 25.8, -80.2667, 2.0, "Etc/GMT+5"),        # TMY2 Miami FL
]


def test_all_pvlib_weather_files_listed():
    """No EPW ships with pvlib; every TMY file there is in PVLIB_FILES."""
    shipped = sorted(p.name for p in PVLIB_DATA.iterdir()
                     if p.suffix.lower() in (".epw", ".tm2")
                     or p.name.upper().endswith(("TY.CSV", "TYA.CSV")))
    assert shipped == sorted(f[0] for f in PVLIB_FILES)


def scenario_toml(path, source, lat, lon, alt, zone, *, year=2023, extra=""):
    path.write_text(f"""
[region]
name = "site test"
municipality = "A"
prefecture = "B"
latitude = {lat}
longitude = {lon}
altitude_m = {alt}
timezone = "{zone}"
year = {year}

[weather]
source = '{source}'
{extra}

[[consumers]]
id = "homes"
sector = "household"
count = 100
annual_kwh = 450000

[[consumers]]
id = "office"
sector = "commercial"
archetype = "office"
annual_kwh = 200000

[[generators]]
id = "pv"
kind = "pv"
capacity_kw = 300

[[generators]]
id = "wind"
kind = "wind"
capacity_kw = 800
hub_height_m = 60
""", encoding="utf-8")
    return path


@pytest.mark.parametrize("name,lat,lon,alt,zone", PVLIB_FILES)
def test_pvlib_file_runs_at_its_own_site(tmp_path, capsys, name, lat, lon, alt,
                                         zone):
    toml = scenario_toml(tmp_path / "s.toml", PVLIB_DATA / name, lat, lon, alt,
                         zone)
    rc = main(["run", str(toml), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "0.0 km from the scenario site" in out
    assert "from solar noon" in out
    annual = pd.read_csv(tmp_path / "out" / "annual.csv")
    assert np.isfinite(annual.select_dtypes("number").to_numpy()).all()
    if name == "723170TYA.CSV":
        # the record of 30 Apr 19:00 (GHI 1 W/m2, DNI = DHI = 0) made Perez
        # return NaN: now the isotropic sky, counted and listed
        assert "used the isotropic model: 30 Apr 19:00" in out


def _refused(tmp_path, capsys, toml):
    out = tmp_path / "out"
    rc = main(["run", str(toml), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert not out.exists()
    return err


def test_far_file_refused_naming_both_sites(tmp_path, capsys):
    toml = scenario_toml(tmp_path / "s.toml", PVLIB_DATA / "723170TYA.CSV",
                         LAT, LON, ALT, "Asia/Tokyo")
    err = _refused(tmp_path, capsys, toml)
    assert "GREENSBORO" in err and "(36.100, -79.950)" in err
    assert "(27.370, 128.570)" in err and "expected at most 50 km" in err


def test_distant_file_on_purpose_then_its_clock_is_refused(tmp_path, capsys):
    # a US file at a Japanese site: allowed as distant, but its daylight
    # lands in the Japanese night, which the clock check measures
    toml = scenario_toml(tmp_path / "s.toml", PVLIB_DATA / "723170TYA.CSV",
                         LAT, LON, ALT, "Asia/Tokyo", extra="distant_ok = true")
    err = _refused(tmp_path, capsys, toml)
    assert "solar noon" in err and "723170TYA.CSV" in err


def test_shifted_clock_refused(tmp_path, capsys):
    # UTC timestamps written as if they were JST: 9 h early
    w = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    df = w.copy()
    df.index = w.index.tz_convert("UTC").tz_localize(None)
    df.index.name = "time"
    csv = tmp_path / "utc_as_jst.csv"
    df.to_csv(csv)
    toml = scenario_toml(tmp_path / "s.toml", csv, LAT, LON, ALT, "Asia/Tokyo")
    err = _refused(tmp_path, capsys, toml)
    assert "9.0 h before solar noon" in err and "utc_as_jst.csv" in err


def test_jma_all_flagged_refused(tmp_path, capsys):
    w = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    csv = write_jma_csv(w, tmp_path / "jma_bad.csv", ghi_flag=1)
    toml = scenario_toml(tmp_path / "s.toml", csv, LAT, LON, ALT, "Asia/Tokyo")
    err = _refused(tmp_path, capsys, toml)
    assert "jma_bad.csv" in err and "all 8760 values of ghi" in err


def test_truncated_metpv_refused(tmp_path, capsys):
    w = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    txt = write_metpv(w, tmp_path / "cut.txt", drop_days=40)
    toml = scenario_toml(tmp_path / "s.toml", txt, LAT, LON, ALT, "Asia/Tokyo")
    err = _refused(tmp_path, capsys, toml)
    assert "cut.txt" in err and "40 of 365 days missing, first 11-22" in err
    assert "line 2926" in err  # 1 station line + 325 days x 9 elements


def test_metpv_cut_mid_line_refused(tmp_path, capsys):
    # a download cut off inside a line: the short line is named
    w = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    txt = write_metpv(w, tmp_path / "cut.txt")
    text = txt.read_bytes()
    txt.write_bytes(text[: 1 + len(text.split(b"\n")[0]) + 161 * 20 + 80])
    toml = scenario_toml(tmp_path / "s.toml", txt, LAT, LON, ALT, "Asia/Tokyo")
    err = _refused(tmp_path, capsys, toml)
    assert "cut.txt: line 22: 80 characters; a METPV day line has 160" in err


def test_metpv_wrong_element_code_refused(tmp_path, capsys):
    w = synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    codes = [f"{k:05d}" for k in range(1, 10)]
    codes[3] = "00011"
    txt = write_metpv(w, tmp_path / "codes.txt", codes=codes)
    toml = scenario_toml(tmp_path / "s.toml", txt, LAT, LON, ALT, "Asia/Tokyo")
    err = _refused(tmp_path, capsys, toml)
    assert ("codes.txt: line 5: element code '00011'; a METPV-11 file has "
            "00001-00009") in err
    # 00010 exists in METPV-20 only
    codes[3] = "00010"
    txt = write_metpv(w, tmp_path / "codes.txt", codes=codes)
    with pytest.raises(InputError, match="line 5: element code '00010'"):
        load_weather(txt, latitude=LAT, longitude=LON, altitude=ALT, year=2023)


# --- site and clock checks, unit level -----------------------------------------

def test_distance_km_known_value():
    # Tokyo (35.681, 139.767) to Osaka (34.702, 135.496): about 403 km
    assert distance_km(35.681, 139.767, 34.702, 135.496) == pytest.approx(403, abs=3)


def test_distant_ok_reports_instead_of_refusing():
    tmy = PVLIB_DATA / "723170TYA.CSV"
    # Raleigh NC, about 110 km from Greensboro
    with pytest.raises(InputError, match="km from the scenario site"):
        load_weather(tmy, latitude=35.78, longitude=-78.64, year=2023,
                     timezone="Etc/GMT+5")
    df = load_weather(tmy, latitude=35.78, longitude=-78.64, year=2023,
                      timezone="Etc/GMT+5", distant_ok=True)
    assert any("distant_ok set" in c for c in df.attrs["checks"])
    df = load_weather(tmy, latitude=35.78, longitude=-78.64, year=2023,
                      timezone="Etc/GMT+5", max_distance_km=150)
    assert any("km from the scenario site" in c for c in df.attrs["checks"])


def test_swapped_coordinates_hint():
    with pytest.raises(InputError, match="look swapped"):
        load_weather(PVLIB_DATA / "723170TYA.CSV", latitude=-79.95,
                     longitude=36.1, year=2023, timezone="Etc/GMT+5")


@pytest.mark.parametrize("hours", [-9, -1, 1, 2])
def test_clock_shift_measured(hours):
    w = synthetic_year(latitude=LAT, longitude=LON, year=2023)
    shifted = w.copy()
    shifted["ghi"] = np.roll(w["ghi"].to_numpy(), hours)
    shift = clock_shift_hours(shifted, latitude=LAT, longitude=LON)
    print(f"rolled {hours:+d} h: measured {shift:+.2f} h")
    assert shift == pytest.approx(hours, abs=0.1)
    assert abs(clock_shift_hours(w, latitude=LAT, longitude=LON)) < 0.1


# --- JMA -------------------------------------------------------------------

@pytest.fixture(scope="module")
def year():
    return synthetic_year(latitude=LAT, longitude=LON, altitude=ALT, year=2023)


def test_jma_roundtrip(tmp_path, year):
    csv = write_jma_csv(year, tmp_path / "jma.csv")
    df = load_weather(csv, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    # MJ/m2 with 2 decimals: 0.01 MJ/m2 = 2.8 W/m2 of rounding
    assert np.abs(df["ghi"] - year["ghi"]).max() < 1.4 + 1e-9
    assert df["ghi"].sum() == pytest.approx(year["ghi"].sum(), rel=1e-3)
    assert np.abs(df["temp_air"] - year["temp_air"]).max() <= 0.05 + 1e-9
    assert any("Erbs" in r for r in df.attrs["repairs"])
    assert df.attrs["source"] == "JMA jma.csv: 架空島"


def test_jma_flagged_values_listed_and_short_gaps_interpolated(tmp_path, year):
    flags = np.full(len(year), 8)
    flags[4000:4002] = 4          # 2 h of insufficient data: interpolated
    csv = write_jma_csv(year, tmp_path / "jma.csv", ghi_flag=flags)
    df = load_weather(csv, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    rep = " | ".join(df.attrs["repairs"])
    assert "日射量(MJ/㎡): 2 value(s) missing or below the usable quality" in rep
    assert "2 missing hour(s)" in rep
    flags[5000:5010] = 1          # 10 h missing: refused
    csv = write_jma_csv(year, tmp_path / "jma2.csv", ghi_flag=flags)
    with pytest.raises(InputError, match="10 missing hours"):
        load_weather(csv, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    # with min_quality 4 the first file's 'insufficient' values are usable
    csv = write_jma_csv(year, tmp_path / "jma3.csv", ghi_flag=np.where(
        np.arange(len(year)) < 4005, flags, 8).clip(4))
    df = load_weather(csv, latitude=LAT, longitude=LON, altitude=ALT, year=2023,
                      min_quality=4)
    assert not any("below the usable" in r for r in df.attrs["repairs"])


def test_jma_sunshine_only_station(tmp_path, year):
    csv = write_jma_csv(year, tmp_path / "amedas.csv", radiation=False,
                        sunshine=True, pressure=False)
    df = load_weather(csv, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    rep = " | ".join(df.attrs["repairs"])
    assert "Angstrom-Prescott" in rep and "FAO-56" in rep
    assert "pressure of the site's altitude" in rep
    ratio = df["ghi"].sum() / year["ghi"].sum()
    print(f"sunshine-estimated / true annual GHI: {ratio:.3f}")
    assert 0.75 < ratio < 1.25


def test_jma_without_radiation_or_sunshine_refused(tmp_path, year):
    csv = write_jma_csv(year, tmp_path / "t.csv", radiation=False)
    with pytest.raises(InputError, match="neither 日射量"):
        load_weather(csv, latitude=LAT, longitude=LON, year=2023)


# --- METPV -----------------------------------------------------------------

def test_metpv_roundtrip_and_site(tmp_path, year):
    txt = write_metpv(year, tmp_path / "m.txt")
    df = load_weather(txt, latitude=LAT, longitude=LON, altitude=ALT, year=2024)
    assert len(df) == 8784  # leap year: 29 Feb filled, and said so
    assert any("29 Feb" in r for r in df.attrs["repairs"])
    site = df.attrs["site"]
    assert site["latitude"] == pytest.approx(LAT, abs=1e-3)
    assert site["longitude"] == pytest.approx(LON, abs=1e-3)
    df = load_weather(txt, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    assert np.abs(df["ghi"] - year["ghi"]).max() < 1.5
    assert np.abs(df["temp_air"] - year["temp_air"]).max() <= 0.05 + 1e-9
    with pytest.raises(InputError, match="MADEUP ISLAND"):
        load_weather(txt, latitude=31.0, longitude=130.5, year=2023)
    # METPV-11 states the anemometer height: the wind is at that height
    assert df.attrs["wind_height"] == 6.5
    assert any("anemometer height 6.5 m" in r for r in df.attrs["repairs"])
    df = load_weather(txt, latitude=LAT, longitude=LON, altitude=ALT, year=2023,
                      wind_height=12.0)
    assert df.attrs["wind_height"] == 12.0


def test_metpv20_roundtrip(tmp_path, year):
    txt = write_metpv(year, tmp_path / "mea99999.txt", layout="METPV-20")
    lines = txt.read_text(encoding="cp932").splitlines()
    assert len(lines) == 1 + 365 * 10 and {len(x) for x in lines[1:]} == {160}
    df = load_weather(txt, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    assert np.abs(df["ghi"] - year["ghi"]).max() < 1.5
    assert np.abs(df["wind_speed"] - year["wind_speed"]).max() <= 0.05 + 1e-9
    rep = " | ".join(df.attrs["repairs"])
    assert "METPV-20 states no anemometer height: 10 m assumed" in rep
    assert "built from the years 2011, 2012" in rep
    assert df.attrs["source"] == "METPV-20 mea99999.txt: MADEUP ISLAND"
    assert any("from solar noon" in c for c in df.attrs["checks"])


def test_metpv_columns_checked_by_day_totals_and_numbers(tmp_path, year):
    from sim.inputs.weather.metpv import parse_metpv

    txt = write_metpv(year, tmp_path / "m.txt", layout="METPV-20")
    lines = txt.read_text(encoding="cp932").splitlines()
    good = lines[:]
    # shift one GHI line's hourly fields by a character (remark read as a digit)
    k = next(i for i, x in enumerate(lines) if x.startswith("00001  6 1"))
    lines[k] = lines[k][:15] + lines[k][16:135] + " " + lines[k][135:]
    txt.write_text("\n".join(lines) + "\n", encoding="cp932")
    with pytest.raises(InputError, match=f"line {k + 1}: element 00001: the 24 "
                       f"hourly values add up to"):
        parse_metpv(txt)
    lines = good[:]
    lines[k] = lines[k][:155] + "  999"
    txt.write_text("\n".join(lines) + "\n", encoding="cp932")
    with pytest.raises(InputError, match=f"line {k + 1}: month 6, day 1 with day "
                       f"number 999"):
        parse_metpv(txt)
    lines = good[:]
    lines[k] = lines[k][:10] + "  7.0" + lines[k][15:]
    txt.write_text("\n".join(lines) + "\n", encoding="cp932")
    with pytest.raises(InputError, match=r"\(METPV-11\) but earlier lines are METPV-20"):
        parse_metpv(txt)


def test_jma_hour_24_written_as_24_00(tmp_path, year):
    csv = write_jma_csv(year, tmp_path / "a.csv")
    text = csv.read_bytes().decode("cp932").splitlines()
    # rewrite 'Y/M/D+1 0:00:00' as 'Y/M/D 24:00:00' (both occur in the wild)
    out = []
    for line in text:
        head, _, rest = line.partition(",")
        if head.endswith(" 0:00:00"):
            t = pd.Timestamp(head.split()[0]) - pd.Timedelta(days=1)
            head = f"{t.year}/{t.month}/{t.day} 24:00:00"
        out.append(head + ("," + rest if rest else ""))
    b = tmp_path / "b.csv"
    b.write_bytes("\r\n".join(out).encode("cp932"))
    da = load_weather(csv, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    db = load_weather(b, latitude=LAT, longitude=LON, altitude=ALT, year=2023)
    pd.testing.assert_frame_equal(da, db)
    assert any("states no site" in c for c in db.attrs["checks"])


def test_shipped_made_up_samples():
    """The two small MADE-UP sample files in tests/data (see its README)."""
    from sim.inputs.weather.jma import parse_jma_csv
    from sim.inputs.weather.metpv import parse_metpv

    data = Path(__file__).resolve().parents[1] / "data"
    df, flagged, station = parse_jma_csv(data / "jma_made_up_2days.csv")
    assert station == "架空島" and len(df) == 48
    assert df.index[0] == pd.Timestamp("2023-01-01 00:00")   # hour 1 = 00-01
    assert set(df.columns) == {"temp_air", "ghi", "wind_speed", "pressure"}
    assert not any(flagged.values())
    with pytest.raises(InputError, match="362 of 365 days missing, first 01-04; "
                       "the file ends at line 28"):
        parse_metpv(data / "metpv_made_up_truncated.txt")
