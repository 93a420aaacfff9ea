"""Hostile or careless input ends in one line and the documented exit status.

Nothing here computes a year: every case is refused before the work starts
(the output folder cases of a real run are in tests/test_io.py).
"""

import contextlib
import json
import os
import signal
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli import EXIT_STATUSES, build_parser, main
from sim.errors import InputError
from sim.inputs.scenario import load_scenario, scenario_from_dict
from sim.io import MARKER

TINY = textwrap.dedent("""
    [region]
    name = "Tiny"
    municipality = "和泊町"
    prefecture = "鹿児島県"
    latitude = 27.37
    longitude = 128.57
    year = 2023

    [[consumers]]
    id = "homes"
    sector = "household"
    annual_kwh = 1_000_000

    [[generators]]
    id = "farm"
    kind = "pv"
    capacity_kw = 500
    """)


def _data(**over):
    import tomllib

    data = tomllib.loads(TINY)
    data.update(over)
    return data


@contextlib.contextmanager
def no_hang(seconds=20):
    """Fail (instead of blocking CI forever) if reading a FIFO ever blocks."""
    def boom(*_):
        raise AssertionError(f"blocked for {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _one_line_error(capsys, status, rc, *needles):
    err = capsys.readouterr().err
    assert rc == status, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


# -- output folders from the command line --------------------------------------------

def test_every_writing_command_has_overwrite():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        opts = {o for a in p._actions for o in a.option_strings}
        assert {"-o", "--overwrite"} <= opts, name


@pytest.mark.parametrize("command", ["run", "score", "future", "sweep", "optimize"])
def test_a_users_folder_is_refused_by_every_command(tmp_path, tiny, capsys, command):
    mine = tmp_path / "myproject"
    (mine / "notes").mkdir(parents=True)
    (mine / "notes" / "precious.txt").write_text("keep")
    (mine / "base.toml").write_text("keep")
    rc = main([command, str(tiny), "-o", str(mine), "--overwrite"])
    _one_line_error(capsys, 2, rc, "did not write")
    assert sorted(str(p.relative_to(mine)) for p in mine.rglob("*")) == [
        "base.toml", "notes", "notes/precious.txt"]


def test_verify_refuses_a_users_folder(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x").write_text("keep")
    rc = main(["verify", str(tmp_path / "claim.toml"), "-o", str(mine)])
    _one_line_error(capsys, 2, rc, "did not write")


def test_working_folder_and_a_file_are_refused(tmp_path, tiny, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _one_line_error(capsys, 2, main(["run", str(tiny), "-o", "."]), "working folder")
    _one_line_error(capsys, 2, main(["run", str(tiny), "-o", ".."]), "working folder")
    _one_line_error(capsys, 2, main(["run", str(tiny), "-o", str(tiny)]), "is a file")
    assert tiny.read_text(encoding="utf-8") == TINY


def test_own_results_need_overwrite(tmp_path, tiny, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.txt").write_text("old")
    (out / MARKER).write_text(json.dumps({"gxsim": "0", "files": ["summary.txt"]}))
    _one_line_error(capsys, 2, main(["run", str(tiny), "-o", str(out)]), "--overwrite")


# -- exit statuses ------------------------------------------------------------------

def test_exit_statuses_are_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for status in EXIT_STATUSES:
        assert f"| {status} " in readme


def test_internal_error_is_one_line_and_a_log(tmp_path, tiny, capsys, monkeypatch):
    import sim.cli.run

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(sim.cli.run, "command", broken)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    line = _one_line_error(capsys, 4, main(["run", str(tiny)]), "internal error",
                           "ZeroDivisionError")
    log = line.rsplit(" ", 1)[-1]
    assert log.startswith(str(tmp_path))
    text = open(log, encoding="utf-8").read()
    assert "Traceback" in text and "ZeroDivisionError: a bug" in text


def test_permission_problem_is_a_refusal(tmp_path, tiny, capsys, monkeypatch):
    import sim.cli.run

    def denied(args):
        raise PermissionError(13, "Permission denied", "/root/x")

    monkeypatch.setattr(sim.cli.run, "command", denied)
    _one_line_error(capsys, 2, main(["run", str(tiny)]), "/root/x", "Permission denied")


# -- hostile files --------------------------------------------------------------------

def test_fifo_scenario_claim_rubric_refused(tmp_path, capsys):
    fifo = tmp_path / "x.toml"
    os.mkfifo(fifo)
    with no_hang():
        for command in ("run", "score", "sweep", "verify"):
            rc = main([command, str(fifo), "-o", str(tmp_path / command)])
            _one_line_error(capsys, 2, rc, "FIFO")
        from sim.programme.score import load_rubric

        with pytest.raises(InputError, match="FIFO"):
            load_rubric(fifo)


def test_fifo_and_device_data_files_refused(tmp_path):
    from sim.inputs.meter import read_meter
    from sim.inputs.weather import load_weather
    from sim.studies.future import load_projection
    from sim.core.engine import calendar_index
    from sim.physics.demand import read_shape_file
    from sim.studies.sweep import make_cases

    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)
    with no_hang():
        for path in (fifo, "/dev/zero"):
            with pytest.raises(InputError, match="FIFO|device"):
                read_meter(path, year=2023)
            with pytest.raises(InputError, match="FIFO|device"):
                load_projection(path=path)
            with pytest.raises(InputError, match="FIFO|device"):
                load_weather(str(path), latitude=27.0, longitude=128.0, year=2023)
            sc = scenario_from_dict(_data(sweep={"mode": "table", "table": str(path)}),
                                    source=tmp_path / "sc.toml")
            with pytest.raises(InputError, match="FIFO|device"):
                make_cases(sc)
            with pytest.raises(InputError, match="FIFO|device"):  # a consumer's own shape
                read_shape_file(path, calendar_index(2023))
    sc = scenario_from_dict(_data(sweep={"mode": "table", "table": str(tmp_path)}),
                            source=tmp_path / "sc.toml")
    with pytest.raises(InputError, match="is a folder"):
        make_cases(sc)


def test_deeply_nested_toml_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 1000 + "]" * 1000 + "\n")
    _one_line_error(capsys, 2, main(["run", str(path), "-o", str(tmp_path / "o")]),
                    "nested too deeply")
    path.write_text(TINY + "\n[options]\nx = " + "[" * 40 + "]" * 40 + "\n")
    with pytest.raises(InputError, match="nested more than 32 levels"):
        load_scenario(path)


@pytest.mark.parametrize("value", [1e308, float("inf"), float("nan"), -1e300])
def test_numbers_that_would_overflow_name_the_field(value):
    data = _data()
    data["generators"][0]["capacity_kw"] = value
    with pytest.raises(InputError, match=r"generators\[0\]\.capacity_kw: expected a finite "
                                         r"number no larger than 1e\+15"):
        scenario_from_dict(data)


_KEYS = st.sampled_from(["id", "name", "site", "meter_id", "seed", "note", "kw", "a\x01"])
_LEAVES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
    st.booleans(), st.none(), st.text(alphabet="ab\t\n\x00\x1b\x85", max_size=4),
    st.sampled_from([1e15, -1e15, 1.0000001e15]))
_TREES = st.recursive(_LEAVES, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(_KEYS, kids, max_size=3)), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(tree=_TREES, depth=st.integers(0, 31))
def test_guard_fast_pass_agrees_with_the_located_walk(tree, depth):
    # guard_values first asks the fast pass and walks with locations only when
    # it finds something: both must judge every tree alike (nesting included)
    from sim.inputs.scenario import _guard_clean, _guard_walk

    for _ in range(depth):
        tree = {"x": [tree]} if depth % 2 else [tree]
    try:
        _guard_walk(tree, None)
        walk_ok = True
    except InputError:
        walk_ok = False
    assert _guard_clean(tree, 0, None) == walk_ok


def test_control_characters_in_ids_refused():
    for bad in ("ho\x00mes", "homes\n", "a\x1bb"):
        data = _data()
        data["consumers"][0]["id"] = bad
        with pytest.raises(InputError, match=r"consumers\[0\]\.id: contains the control"):
            scenario_from_dict(data)
    data = _data()
    data["region"]["name"] = "Tiny\x00"
    with pytest.raises(InputError, match=r"region\.name"):
        scenario_from_dict(data)


def test_nul_in_a_sweep_table_label_refused(tmp_path):
    from sim.studies.sweep import make_cases

    table = tmp_path / "cases.csv"
    table.write_bytes(b"case,generators[farm].scale\nok,1\nbad\x00x,2\n")
    sc = scenario_from_dict(_data(sweep={"mode": "table", "table": str(table)}),
                            source=tmp_path / "sc.toml")
    with pytest.raises(InputError, match="row 3"):
        make_cases(sc)


def test_too_many_consumers_refused_before_allocation(monkeypatch):
    import sim

    data = _data()
    data["consumers"] = [dict(data["consumers"][0], id=f"h{i}") for i in range(2000)]
    sc = scenario_from_dict(data)
    monkeypatch.setenv("GXSIM_MEMORY_MB", "100")
    with pytest.raises(InputError, match=r"2,000 consumers × 8,760 h would need about "
                                         r"802\.3 MB of memory; 100\.0 MB is available"):
        sim.simulate(sc)


def test_a_sweep_too_big_for_memory_refused(monkeypatch):
    from sim.studies.sweep import run

    sc = scenario_from_dict(_data(sweep={"parameters": [
        {"target": "generators[farm].scale", "values": list(np.linspace(0, 2, 1000))}]}))
    monkeypatch.setenv("GXSIM_MEMORY_MB", "1")
    with pytest.raises(InputError, match="a sweep of 1,000 cases .* would need about"):
        run(sc, progress=False)


def test_input_size_limit_option(tmp_path, tiny, capsys):
    rc = main(["--max-input-mb", "0.0001", "run", str(tiny), "-o", str(tmp_path / "o")])
    _one_line_error(capsys, 2, rc, "above the limit")
