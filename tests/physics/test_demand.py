"""Tests for sim.physics.demand: archetype shapes, calendar, savings."""

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.physics import demand
from sim.physics.demand import (ARCHETYPES, apply_savings, archetype_shape, demand_kwh,
                        japanese_holidays)
from sim.errors import InputError
from sim.physics.demand import PROFILE_DIR

TZ = "Asia/Tokyo"


def year_index(year, tz=TZ):
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h",
                         tz=tz, inclusive="left")


@pytest.fixture(scope="module")
def idx2023():
    return year_index(2023)


@pytest.fixture(scope="module")
def idx2024():
    return year_index(2024)


def day(shape, index, date):
    return shape[index.normalize() == pd.Timestamp(date, tz=TZ)]


def test_required_archetypes_present():
    required = {"household", "office", "commerce", "school", "hospital", "hotel",
                "public_hall", "water_works", "waste_plant", "flat"}
    assert required <= set(ARCHETYPES)


@pytest.mark.parametrize("archetype", ARCHETYPES)
@pytest.mark.parametrize("year", [2023, 2024])
def test_shape_sums_to_one_non_negative(archetype, year):
    index = year_index(year)
    shape = archetype_shape(archetype, index)
    assert shape.shape == (len(index),)
    assert len(index) == (8784 if year == 2024 else 8760)
    assert (shape >= 0).all()
    assert shape.sum() == pytest.approx(1.0, abs=1e-12)


def test_flat_is_constant(idx2024):
    np.testing.assert_allclose(archetype_shape("flat", idx2024), 1 / 8784)


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_demand_sums_to_annual_after_savings(archetype, idx2024):
    kwh = demand_kwh(123_456.0, archetype, idx2024, savings=0.15)
    assert kwh.shape == (8784,)
    assert kwh.sum() == pytest.approx(123_456.0 * 0.85, rel=1e-12)


def test_japanese_holidays(idx2023):
    hol = pd.Series(japanese_holidays(idx2023), idx2023)
    at = lambda d: bool(hol[pd.Timestamp(d, tz=TZ)])  # noqa: E731
    assert at("2023-05-03 10:00")      # Constitution Day (Wednesday)
    assert at("2023-05-07 10:00")      # Sunday
    assert at("2023-05-06 10:00")      # Saturday
    assert not at("2023-05-10 10:00")  # Wednesday
    assert at("2023-12-29 10:00") and at("2023-01-03 10:00")  # year-end
    assert not at("2023-12-28 10:00") and not at("2023-01-04 10:00")
    no_year_end = japanese_holidays(idx2023, year_end=False)
    assert not no_year_end[idx2023.get_loc(pd.Timestamp("2023-12-29 10:00", tz=TZ))]


def test_holidays_read_in_japan_time(idx2023):
    utc = idx2023.tz_convert("UTC")
    np.testing.assert_array_equal(japanese_holidays(utc), japanese_holidays(idx2023))
    np.testing.assert_array_equal(archetype_shape("office", utc),
                                  archetype_shape("office", idx2023))


def test_holiday_years_outside_library_range():
    with pytest.raises(InputError, match="holidays"):
        japanese_holidays(pd.date_range("2150-01-01", periods=3, freq="D", tz=TZ))


@pytest.mark.parametrize("archetype", ["office", "school"])
def test_national_holiday_equals_sunday(archetype, idx2023):
    shape = archetype_shape(archetype, idx2023)
    holiday = day(shape, idx2023, "2023-05-03")   # Constitution Day, Wednesday
    sunday = day(shape, idx2023, "2023-05-07")
    wednesday = day(shape, idx2023, "2023-05-10")
    np.testing.assert_array_equal(holiday, sunday)
    assert not np.allclose(holiday, wednesday)
    assert wednesday[9:17].sum() > 2 * holiday[9:17].sum()


def test_office_follows_webpro_o1(idx2023):
    wednesday = day(archetype_shape("office", idx2023), idx2023, "2023-05-10")
    night = wednesday[0]
    np.testing.assert_allclose(wednesday[[0, 3, 6, 22, 23]], night)
    np.testing.assert_allclose(wednesday[10] / night, 4.0)  # equipment 0.25 at night


def test_school_lower_in_august_and_spring_break(idx2023):
    s = pd.Series(archetype_shape("school", idx2023), idx2023)
    monthly = s.groupby(s.index.month).sum()
    assert monthly[8] < 0.6 * monthly[6]
    # 2023-03-27 (Mon) is in the spring break: holiday schedule
    np.testing.assert_array_equal(day(s.to_numpy(), idx2023, "2023-03-27"),
                                  day(s.to_numpy(), idx2023, "2023-03-26"))


def test_household_evening_peak(idx2023):
    s = pd.Series(archetype_shape("household", idx2023), idx2023)
    assert 17 <= s.groupby(s.index.hour).mean().idxmax() <= 22
    workday = day(s.to_numpy(), idx2023, "2023-05-10")
    assert 17 <= workday.argmax() <= 22
    assert workday[7] > workday[5] and workday[7] > workday[10]  # morning bump


def test_household_winter_higher_than_spring(idx2023):
    s = pd.Series(archetype_shape("household", idx2023), idx2023)
    daily = s.groupby(s.index.month).mean()
    assert daily[1] > daily[5] and daily[8] > daily[5]


def test_hotel_same_on_workday_and_holiday(idx2023):
    shape = archetype_shape("hotel", idx2023)
    np.testing.assert_array_equal(day(shape, idx2023, "2023-05-10"),
                                  day(shape, idx2023, "2023-05-07"))


def test_temperature_sensitivity(idx2024):
    hours = np.arange(len(idx2024))
    temp = 18 + 10 * np.sin(2 * np.pi * (hours / 24 - 0.375))  # 8..28 °C
    base = archetype_shape("household", idx2024)
    warm = archetype_shape("household", idx2024, temp_air=temp,
                           temperature_sensitivity=0.05)
    assert warm.sum() == pytest.approx(1.0, abs=1e-12)
    hot = temp > 26
    assert warm[hot].sum() > base[hot].sum()
    assert (warm[hot] / base[hot] > 1).all()
    kwh = demand_kwh(5000, "office", idx2024, temp_air=temp,
                     temperature_sensitivity=0.05, savings=0.1)
    assert kwh.sum() == pytest.approx(4500, rel=1e-12)
    # sensitivity 0 leaves the shape alone
    np.testing.assert_array_equal(
        archetype_shape("household", idx2024, temp_air=temp), base)


def test_temperature_input_errors(idx2024):
    with pytest.raises(InputError, match="temp_air"):
        archetype_shape("office", idx2024, temperature_sensitivity=0.02)
    with pytest.raises(InputError, match="one value per hour"):
        archetype_shape("office", idx2024, temp_air=np.zeros(10),
                        temperature_sensitivity=0.02)
    temp = np.full(len(idx2024), 20.0)
    temp[5] = np.nan
    with pytest.raises(InputError, match="1 missing"):
        archetype_shape("office", idx2024, temp_air=temp,
                        temperature_sensitivity=0.02)
    with pytest.raises(InputError, match="temperature_sensitivity"):
        archetype_shape("office", idx2024, temp_air=np.zeros(len(idx2024)),
                        temperature_sensitivity=-0.1)
    shifted = pd.Series(20.0, index=idx2024 + pd.Timedelta(hours=1))
    with pytest.raises(InputError, match="same time index"):
        archetype_shape("office", idx2024, temp_air=shifted,
                        temperature_sensitivity=0.02)


def test_daytime_shift(idx2024):
    day_hours = (idx2024.hour >= 9) & (idx2024.hour < 17)
    shares = []
    for shift in (0.0, 0.3, 1.0):
        kwh = demand_kwh(4000, "household", idx2024, daytime_shift=shift)
        assert kwh.sum() == pytest.approx(4000, rel=1e-12)
        shares.append(kwh[day_hours].sum() / kwh.sum())
    assert shares[0] < shares[1] < shares[2]
    np.testing.assert_allclose(
        archetype_shape("household", idx2024, daytime_shift=1.0),
        archetype_shape("household_elderly", idx2024))


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "lots"])
def test_daytime_shift_bad(bad, idx2024):
    with pytest.raises(InputError, match="daytime_shift"):
        archetype_shape("household", idx2024, daytime_shift=bad)


def test_daytime_shift_household_only(idx2024):
    with pytest.raises(InputError, match="household only"):
        archetype_shape("office", idx2024, daytime_shift=0.2)


def test_unknown_archetype_lists_valid(idx2024):
    with pytest.raises(InputError) as err:
        demand_kwh(100, "brewery", idx2024)
    msg = str(err.value)
    assert "\n" not in msg and "'brewery'" in msg
    assert all(a in msg for a in ARCHETYPES)
    assert err.value.field == "archetype"


@pytest.mark.parametrize("savings", [-0.01, 1.0, 2, float("nan"), "x"])
def test_bad_savings(savings, idx2024):
    with pytest.raises(InputError, match=r"savings must be a fraction in \[0, 1\)") as err:
        demand_kwh(100, "flat", idx2024, savings=savings)
    assert "\n" not in str(err.value)


def test_apply_savings():
    kwh = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(apply_savings(kwh, 0.25), [0.75, 1.5, 2.25])
    np.testing.assert_allclose(apply_savings(kwh, [0.0, 0.5, 0.0]), [1, 1, 3])
    np.testing.assert_array_equal(kwh, [1.0, 2.0, 3.0])  # input untouched
    with pytest.raises(InputError, match="kwh"):
        apply_savings([1.0, -1.0], 0.1)
    with pytest.raises(InputError, match="kwh"):
        apply_savings([1.0, np.nan], 0.1)
    with pytest.raises(InputError, match="shape"):
        apply_savings(kwh, [0.1, 0.2])
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        apply_savings(kwh, [0.1, 1.0, 0.2])


@pytest.mark.parametrize("annual", [-1.0, float("inf"), "a lot"])
def test_bad_annual(annual, idx2024):
    with pytest.raises(InputError, match="annual_kwh"):
        demand_kwh(annual, "flat", idx2024)


@pytest.mark.parametrize("index, match", [
    (pd.date_range("2024-01-01", periods=48, freq="h"), "time-zone aware"),
    (pd.date_range("2024-01-01", periods=48, freq="30min", tz=TZ), "hourly"),
    (pd.date_range("2024-01-01 00:30", periods=48, freq="h", tz=TZ), "start of a clock hour"),
    (pd.date_range("2024-01-01", periods=48, freq="h", tz=TZ)[::-1], "hourly"),
    (pd.date_range("2024-01-01", periods=48, freq="h", tz=TZ).delete(5), "hourly"),
    (pd.DatetimeIndex([], tz=TZ), "empty"),
    (np.arange(48), "DatetimeIndex"),
])
def test_bad_index(index, match):
    with pytest.raises(InputError, match=match) as err:
        archetype_shape("office", index)
    assert err.value.field == "index" and "\n" not in str(err.value)


def test_partial_index_works():
    index = pd.date_range("2024-07-01", periods=24 * 7, freq="h", tz=TZ)
    kwh = demand_kwh(700.0, "hospital", index)
    assert kwh.sum() == pytest.approx(700.0)
    assert len(kwh) == 168


def test_all_archetypes_fast(idx2024):
    for a in ARCHETYPES:  # warm the caches
        archetype_shape(a, idx2024)
    start = time.perf_counter()
    for a in ARCHETYPES:
        demand_kwh(1000.0, a, idx2024, savings=0.1)
    assert time.perf_counter() - start < 0.05


def test_shipped_tables_consistent():
    tables = demand._tables()
    assert set(tables) == set(ARCHETYPES)
    for daily, monthly, _ in tables.values():
        assert daily.shape == (3, 2, 24) and monthly.shape == (12,)
        assert not daily.flags.writeable


def test_malformed_table_reports_file_and_row(tmp_path):
    for name in ("daily_shapes.csv", "monthly_factors.csv", "closures.csv"):
        (tmp_path / name).write_text((demand.PROFILE_DIR / name).read_text())
    path = tmp_path / "daily_shapes.csv"
    lines = path.read_text().splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("office,"))
    lines[first] = lines[first].replace("0.45", "-0.45", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as err:
        demand._tables(tmp_path)
    assert err.value.source == str(path) and err.value.field.startswith("row ")


@settings(max_examples=40, deadline=None)
@given(annual=st.floats(0, 1e9), savings=st.floats(0, 0.999),
       archetype=st.sampled_from(ARCHETYPES),
       start=st.integers(0, 8000), hours=st.integers(1, 800))
def test_demand_total_property(annual, savings, archetype, start, hours):
    index = pd.date_range("2023-01-01", periods=8784, freq="h", tz=TZ)[start:start + hours]
    kwh = demand_kwh(annual, archetype, index, savings=savings)
    assert (kwh >= 0).all()
    assert kwh.sum() == pytest.approx(annual * (1 - savings), rel=1e-9, abs=1e-9)


# --- issue 11: published household shape, load factor, Obon, own shapes -------

def _bri():
    import importlib.util

    path = PROFILE_DIR / "build_household.py"
    spec = importlib.util.spec_from_file_location("build_household", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_household_rows_are_built_from_the_bri_table():
    """daily_shapes.csv holds what build_household.py makes of BRI table A.1."""
    built = {(s, d): v for s, d, v in _bri().rows()}
    df = pd.read_csv(PROFILE_DIR / "daily_shapes.csv", comment="#")
    rows = df[df["archetype"] == "household"]
    assert len(rows) == 6
    for _, r in rows.iterrows():
        got = r[[str(h) for h in range(24)]].to_numpy(float)
        np.testing.assert_allclose(got, built[(r["season"], r["day_type"])], atol=6e-5)


def test_household_shape_against_bri_and_load_factor():
    from sim.inputs.weather import synthetic_year

    w = synthetic_year(latitude=27.37, longitude=128.57, altitude=20, year=2023)
    bri = _bri().BRI_3P[:, 0]  # 3 residents, weekday
    s = pd.Series(demand_kwh(1.0, "household", w.index), index=w.index)
    mid = s[s.index.month.isin([4, 5, 6, 10, 11]) & (s.index.day_of_week < 5)]
    day = mid.groupby(mid.index.hour).mean().to_numpy()
    corr = np.corrcoef(day, bri)[0, 1]
    night = day[2:5].mean() / day.max()
    print(f"household vs BRI table A.1 (3 persons, weekday): correlation {corr:.2f}, "
          f"peak {day.argmax()} h (BRI {bri.argmax()} h), night/peak {night:.2f} "
          f"(BRI {bri[2:5].mean() / bri.max():.2f})")
    assert corr > 0.8 and day.argmax() == bri.argmax() and night < 0.3
    for sens in (0.0, 0.02):
        d = demand_kwh(4500, "household", w.index, temp_air=w["temp_air"].to_numpy(),
                       temperature_sensitivity=sens)
        lf = d.mean() / d.max()
        print(f"household load factor (temperature sensitivity {sens}): {lf:.3f}")
        assert 0.35 <= lf <= 0.5


@pytest.mark.parametrize("archetype", ["office", "factory"])
def test_obon_reduced_for_offices_and_factories(archetype):
    idx = pd.date_range("2030-01-01", "2031-01-01", freq="h", inclusive="left",
                        tz="Asia/Tokyo")
    s = pd.Series(demand_kwh(1.0, archetype, idx), index=idx)
    obon = s["2030-08-13":"2030-08-16"]          # Tue-Fri in 2030
    work = s["2030-08-20":"2030-08-23"]          # the next Tue-Fri
    assert obon.sum() < 0.5 * work.sum()
    off = pd.Series(demand_kwh(1.0, archetype, idx, obon=False), index=idx)
    assert off["2030-08-13":"2030-08-16"].sum() == pytest.approx(
        off["2030-08-20":"2030-08-23"].sum() * 31 / 31, rel=0.02)
    # households are not touched by Obon by default; obon=True opts in
    h = pd.Series(demand_kwh(1.0, "commerce", idx, obon=True), index=idx)
    assert h.sum() == pytest.approx(1.0)


def test_custom_shape_table_and_file(tmp_path):
    from sim.physics.demand import custom_shape, read_shape_file

    idx = pd.date_range("2030-01-01", "2031-01-01", freq="h", inclusive="left",
                        tz="Asia/Tokyo")
    # a fish-processing plant: landing 4-12 h on workdays, cold store always
    work = [0.3] * 4 + [1.0] * 8 + [0.5] * 6 + [0.3] * 6
    shape = custom_shape({"workday": work, "holiday": [0.3] * 24}, idx)
    assert shape.sum() == pytest.approx(1.0)
    s = pd.Series(shape, index=idx)
    assert s["2030-01-07 05:00"] / s["2030-01-07 20:00"] == pytest.approx(1.0 / 0.3)
    assert s["2030-01-06 05:00"] == s["2030-01-06 20:00"]  # Sunday
    with pytest.raises(InputError, match="24 numbers"):
        custom_shape({"all": [1.0] * 23}, idx)
    with pytest.raises(InputError, match="holiday"):
        custom_shape({"workday": work}, idx)
    f = tmp_path / "shape.csv"
    vals = np.arange(1, 8761) % 24 + 1.0
    f.write_text("kwh\n" + "\n".join(map(str, vals)))
    np.testing.assert_allclose(read_shape_file(f, idx), vals / vals.sum())
    f.write_text("\n".join(map(str, vals[:-1])))
    with pytest.raises(InputError, match="8759 hourly values; expected 8760"):
        read_shape_file(f, idx)
